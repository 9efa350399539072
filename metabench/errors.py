"""Exception hierarchy of metabench.

Every error a user can cause derives from :class:`InputError`, which is also a
``ValueError`` so that generic ``except ValueError`` handlers keep working. Each
error names the file, the line or row where known, and what to do about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ConvergenceError",
    "InputError",
    "MetabenchError",
    "NotFittedError",
    "Problem",
    "UnknownFormatError",
    "ValidationError",
]


@dataclass(frozen=True)
class Problem:
    """One problem found in an input.

    Parameters
    ----------
    message : str
        What is wrong, in one sentence.
    file : str, optional
        The file the problem was found in.
    line : int, optional
        1-based line (text formats) or data row (tables, header excluded).
    fix : str, optional
        What the user can do about it.
    kind : str
        A short machine-readable class such as ``"missing_column"``.

    Examples
    --------
    >>> p = Problem("score is not numeric", file="runs.csv", line=3, kind="non_numeric_score")
    >>> str(p)
    'runs.csv:3: score is not numeric'
    """

    message: str
    file: str | None = None
    line: int | None = None
    fix: str | None = None
    kind: str = "invalid"

    @property
    def where(self) -> str:
        if self.file is None:
            return "" if self.line is None else f"row {self.line}"
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def __str__(self) -> str:
        where = self.where
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text += f" Fix: {self.fix}"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "file": self.file,
            "line": self.line,
            "message": self.message,
            "fix": self.fix,
        }


class MetabenchError(Exception):
    """Base class of every error raised by metabench."""


class InputError(MetabenchError, ValueError):
    """Invalid user input: a file, a table, an argument.

    Parameters
    ----------
    message : str
        What is wrong.
    file : str or Path, optional
        File in which the problem was found.
    line : int, optional
        1-based line or data row.
    fix : str, optional
        What to do about it.
    kind : str
        Machine-readable problem class.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        fix: str | None = None,
        kind: str = "invalid",
    ) -> None:
        self.problem = Problem(
            message, file=None if file is None else str(file), line=line, fix=fix, kind=kind
        )
        super().__init__(str(self.problem))

    @property
    def problems(self) -> list[Problem]:
        return [self.problem]


class ValidationError(InputError):
    """Several problems found at once in an input.

    ``problems`` holds every :class:`Problem`; the message shows the first few.
    """

    def __init__(self, problems: list[Problem], *, max_shown: int = 10) -> None:
        if not problems:
            raise ValueError("ValidationError needs at least one problem")
        self._problems = list(problems)
        first = problems[0]
        super().__init__(first.message, file=first.file, line=first.line, fix=first.fix, kind=first.kind)
        shown = "\n".join(f"  - {p}" for p in problems[:max_shown])
        more = len(problems) - max_shown
        tail = f"\n  ... and {more} more" if more > 0 else ""
        self.args = (f"{len(problems)} problem(s) in the input:\n{shown}{tail}",)

    @property
    def problems(self) -> list[Problem]:
        return list(self._problems)

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownFormatError(InputError):
    """No reader recognises a file or directory."""


class ConvergenceError(MetabenchError):
    """An iterative estimator did not converge and the caller asked to fail."""


class NotFittedError(MetabenchError, AttributeError):
    """An estimator was used before ``fit``."""
