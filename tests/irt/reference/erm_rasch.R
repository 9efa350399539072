# Reference values for metabench's Rasch (1PL) item parameters, computed with
# the R package eRm (conditional maximum likelihood, CML).
#
# Run from this directory:
#
#     Rscript erm_rasch.R
#
# It writes, for each data set NAME below,
#     NAME_X.csv        the 0/1 response matrix exactly as fitted (NA written as an empty field)
#     NAME_items.csv    CML item difficulties (= -betapar), their standard errors, betapar and etapar
#     NAME_persons.csv  (complete data sets only) person parameters per raw score from person.parameter()
# plus erm_fits.csv (one line of fit summary per data set) and sessionInfo.txt.
#
# Sign convention: eRm's RM() reports `betapar` (= coef(fit)) as item *easiness*
# parameters, normalised to sum to zero (RM(X, sum0 = TRUE), the default).  The
# difficulty in metabench's parameterisation P = sigmoid(theta - b) is therefore
# b = -betapar.  With sum0 = TRUE, `etapar` holds the difficulties of items 2..J
# and item 1's difficulty is -sum(etapar); the script checks that both routes agree.

suppressPackageStartupMessages(library(eRm))

data("raschdat1", package = "eRm")
data("raschdat3", package = "eRm")
data("raschdat4", package = "eRm")

# raschdat1 with a fixed, reproducible 10% of its cells set to NA.
make_na10 <- function(X) {
  RNGkind("Mersenne-Twister", "Inversion", "Rejection")
  set.seed(20240601)
  idx <- sample(length(X), round(0.10 * length(X)))
  X[idx] <- NA
  X
}

datasets <- list(
  raschdat1      = as.matrix(raschdat1),        # 100 persons x 30 items, complete
  raschdat3      = as.matrix(raschdat3),        # 500 persons x  6 items, complete
  raschdat1_na10 = make_na10(as.matrix(raschdat1)),  # raschdat1, 300 of 3000 cells NA
  raschdat4      = as.matrix(raschdat4)         # 500 persons x  6 items, 200 cells NA (ships with eRm)
)

fits <- list()
for (name in names(datasets)) {
  X <- datasets[[name]]
  storage.mode(X) <- "integer"
  if (is.null(colnames(X))) colnames(X) <- paste0("I", seq_len(ncol(X)))

  write.csv(data.frame(person = seq_len(nrow(X)), X, check.names = FALSE),
            file = paste0(name, "_X.csv"), row.names = FALSE, na = "")

  fit <- RM(X)                       # CML, sum0 = TRUE, se = TRUE

  difficulty <- -unname(fit$betapar) # = -coef(fit)
  stopifnot(isTRUE(all.equal(difficulty, -unname(coef(fit)))))
  eta <- unname(fit$etapar)
  stopifnot(isTRUE(all.equal(difficulty, c(-sum(eta), eta), tolerance = 1e-10)))
  stopifnot(abs(sum(difficulty)) < 1e-10)

  items <- data.frame(
    item       = colnames(X),
    difficulty = difficulty,                 # -betapar, sums to 0
    se         = unname(fit$se.beta),        # SE of betapar (= SE of difficulty)
    betapar    = unname(fit$betapar),        # eRm's easiness parameter
    etapar     = c(NA, eta),                 # eRm's free parameters (item 1 is the restricted one)
    n_obs      = colSums(!is.na(X)),
    n_correct  = colSums(X, na.rm = TRUE)
  )
  write.csv(items, paste0(name, "_items.csv"), row.names = FALSE, na = "")

  if (!anyNA(X)) {
    pp <- person.parameter(fit)
    # theta.table has one row per person (rownames P1..Pn, in the order of X);
    # se.theta omits the persons with extreme scores, so look it up by name.
    tab <- pp$theta.table
    stopifnot(identical(rownames(tab), paste0("P", seq_len(nrow(X)))))
    raw <- rowSums(X)
    scores <- sort(unique(raw))
    first <- match(scores, raw)
    se_theta <- pp$se.theta$NAgroup1[rownames(tab)[first]]   # NA for extreme scores
    persons <- data.frame(
      raw_score    = scores,
      theta        = tab[first, "Person Parameter"],
      se           = unname(se_theta),
      interpolated = tab[first, "Interpolated"],  # TRUE for extreme scores (0 or J): extrapolated, not an MLE
      n_persons    = as.vector(table(factor(raw, levels = scores)))
    )
    # every person with the same raw score gets the same theta
    stopifnot(all(abs(tab[, "Person Parameter"] - persons$theta[match(raw, scores)]) < 1e-12))
    write.csv(persons, paste0(name, "_persons.csv"), row.names = FALSE, na = "")
  }

  fits[[name]] <- data.frame(
    dataset     = name,
    n_persons   = nrow(X),
    n_items     = ncol(X),
    n_missing   = sum(is.na(X)),
    cml_loglik  = fit$loglik,
    npar        = fit$npar,
    iter        = fit$iter,
    convergence = fit$convergence
  )
}

write.csv(do.call(rbind, fits), "erm_fits.csv", row.names = FALSE)

sink("sessionInfo.txt")
cat("eRm version:", as.character(packageVersion("eRm")), "\n")
cat("RNGkind:", RNGkind(), "\n\n")
print(sessionInfo())
sink()
