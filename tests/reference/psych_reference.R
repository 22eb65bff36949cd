# Reference values from R psych for crmlib's factor-analysis stage.
#
# Run from the repository root with `make reference` (which first writes the
# input matrices of the pipeline cases with export_inputs.py). Needs R with psych
# (Debian: apt-get install -y r-base-core r-cran-psych r-cran-gparotation).
#
# For each data set <d> it reads tests/reference/<d>/input.csv (one row per
# customer, one column per indicator; the first column is the customer id) and
# writes, next to it:
#   kmo.csv                  psych::KMO(x): MSAi per indicator, MSA overall
#   bartlett.csv             psych::cortest.bartlett(cor(x), n = nrow(x)), and the log of its p value,
#                            pchisq(chisq, df, lower.tail = FALSE, log.p = TRUE)
#   eigenvalues.csv          eigen(cor(x))$values
#   loadings_unrotated.csv   principal(x, k, rotate = "none")$loadings
#   loadings_rotated.csv     principal(x, k, rotate = "varimax")$loadings
#   communalities.csv        principal(...)$communality
#   variance.csv             principal(...)$Vaccounted, one row per factor
#   weights.csv              principal(..., scores = TRUE)$weights
#   pa_loadings_unrotated.csv, pa_loadings_rotated.csv, pa_communalities.csv, pa_weights.csv
#                            fa(x, k, fm = "pa", rotate = "none" / "varimax", scores = "regression") converged
#                            tightly (min.err = 1e-13, max.iter = 1e5; psych's default stops at 0.001)
#   quartimax_psych.csv, quartimax_raw.csv, quartimax_kaiser.csv (two factors)
#                            principal(x, k, rotate = "quartimax")$loadings (GPArotation, no normalization,
#                            eps = 1e-5); the criterion's maximum over the angle by optimize, without and with
#                            Kaiser normalization, psych's sign and order rule
#   oblique_<pc_promax|pc_oblimin|pa_promax>_<pattern|phi|structure|weights_Thurstone|weights_Bartlett|variance>.csv
#                            two factors: kaiser(L, "Promax") (psych::fa's promax), principal(rotate = "oblimin"),
#                            fa(fm = "pa", rotate = "promax") converged tightly; factor.scores(r, P, Phi = Phi)
#   minres_loadings_rotated.csv
#                            fa(x, k, fm = "minres", rotate = "varimax") at psych's default tolerance
#   score_weights_<pc|pa>_<Bartlett|Anderson|tenBerge>.csv
#                            factor.scores(r, loadings, method = ...)$weights of the varimax principal
#                            components and principal axes
#   ml_loadings_unrotated.csv, ml_loadings_rotated.csv, ml_fit.csv
#                            maximum likelihood: factanal(covmat = r, ...) converged tightly, psych's sign and
#                            order rule, varimax; psych::fa.stats of the loadings (chi-square, TLI, RMSEA, BIC)
#   scores.csv               principal(..., scores = TRUE)$scores, plus the composite score
#                            F = sum_j w_j F_j with w_j = SS_j / sum(SS), and the grade
#                            (AAA >= q90, AA >= q70, A >= q30, else A-, quantile type 7,
#                            intervals [lower, upper))
# k is Kaiser's count (eigenvalues > 1) unless settings below fix it.
suppressPackageStartupMessages(library(psych))
options(digits = 15)

settings <- list(
  shaoxing = list(k = NULL),
  # The pipeline chooses k by parallel analysis (seeded NumPy draws); it keeps 1 factor.
  islr_credit = list(k = 1),
  credit_data = list(k = NULL)
)

# credit_data: its numeric columns, complete cases, as data/raw/credit_data/credit_data.csv gives them.
raw <- read.csv("data/raw/credit_data/credit_data.csv", check.names = FALSE)
numeric_columns <- c("Seniority", "Time", "Age", "Expenses", "Income", "Assets", "Debt", "Amount", "Price")
complete <- na.omit(raw[, c("rownames", numeric_columns)])
names(complete)[1] <- "customer_id"
dir.create("tests/reference/credit_data", showWarnings = FALSE)
write.csv(complete, "tests/reference/credit_data/input.csv", row.names = FALSE)

# psych's sign and order rule: columns by their sums of squared loadings, largest first, each summing positive
psych_signs <- function(l) l %*% diag(sign(colSums(l)), ncol(l))
psych_order <- function(l) psych_signs(l[, order(colSums(l^2), decreasing = TRUE), drop = FALSE])

write_table <- function(frame, dataset, name) {
  write.csv(frame, file.path("tests/reference", dataset, paste0(name, ".csv")), row.names = FALSE)
}

# The bound of fa.stats' 90% RMSEA interval (its formula) with the root found to 1e-14 (fa.stats' uniroot stops
# at about 1e-4, and looks no further than a noncentrality of n).
rmsea_bound <- function(stats, n, level) {
  if (pchisq(stats$STATISTIC, stats$dof) <= level) return(0)
  root <- uniroot(function(nc) pchisq(stats$STATISTIC, stats$dof, ncp = nc) - level,
                  c(0, max(n, 2 * stats$STATISTIC)), tol = 1e-14)$root
  sqrt(root / (n - 1) / stats$dof)
}

for (dataset in names(settings)) {
  input <- read.csv(file.path("tests/reference", dataset, "input.csv"), check.names = FALSE)
  x <- as.matrix(input[, -1])
  r <- cor(x)
  values <- eigen(r)$values
  k <- settings[[dataset]]$k
  if (is.null(k)) k <- sum(values > 1)

  kmo <- KMO(x)
  write_table(data.frame(indicator = c(colnames(x), "overall"), msa = c(kmo$MSAi, kmo$MSA)), dataset, "kmo")
  bartlett <- cortest.bartlett(r, n = nrow(x))
  write_table(data.frame(chi_square = bartlett$chisq, df = bartlett$df, p_value = bartlett$p.value,
                         log_p_value = pchisq(bartlett$chisq, bartlett$df, lower.tail = FALSE, log.p = TRUE)),
              dataset, "bartlett")
  write_table(data.frame(component = seq_along(values), eigenvalue = values), dataset, "eigenvalues")

  unrotated <- principal(x, nfactors = k, rotate = "none")
  write_table(data.frame(indicator = colnames(x), unclass(unrotated$loadings), check.names = FALSE),
              dataset, "loadings_unrotated")

  for (rotation in c("none", "varimax")) {
    pa <- fa(x, nfactors = k, fm = "pa", rotate = rotation, scores = "regression", min.err = 1e-13, max.iter = 1e5)
    name <- if (rotation == "none") "unrotated" else "rotated"
    write_table(data.frame(indicator = colnames(x), unclass(pa$loadings), check.names = FALSE), dataset,
                paste0("pa_loadings_", name))
  }
  # minimum residual at psych's own tolerance (fa passes no control on to its L-BFGS-B): converged, its minimum is
  # the principal-axis fixed point above
  minres <- fa(x, nfactors = k, fm = "minres", rotate = "varimax")
  write_table(data.frame(indicator = colnames(x), unclass(minres$loadings), check.names = FALSE), dataset,
              "minres_loadings_rotated")
  write_table(data.frame(indicator = colnames(x), communality = pa$communality), dataset, "pa_communalities")
  write_table(data.frame(indicator = colnames(x), pa$weights, check.names = FALSE), dataset, "pa_weights")
  # score coefficients by each method, from the loadings as a matrix (given a one-factor fit object, psych
  # scores every method as regression; its matrix square root fails on one factor), of the principal components
  # and of the principal axes where they are proper (every communality below 1)
  fits <- list(pc = principal(x, nfactors = k, rotate = "varimax"), pa = pa)
  if (max(pa$communality) >= 1) fits$pa <- NULL
  for (fitted in if (k > 1) names(fits) else character(0)) {
    for (method in c("Bartlett", "Anderson", "tenBerge")) {
      w <- factor.scores(r, unclass(fits[[fitted]]$loadings), method = method)$weights
      write_table(data.frame(indicator = colnames(x), w, check.names = FALSE), dataset,
                  paste0("score_weights_", fitted, "_", method))
    }
  }

  # maximum likelihood: stats::factanal converged tightly (psych's fa(fm = "ml") runs the same optimizer at R's
  # default tolerance and passes none on), psych's sign and order rule, and psych::fa.stats of its loadings
  ml <- factanal(covmat = r, factors = k, n.obs = nrow(x), rotation = "none",
                 control = list(lower = 0.005, opt = list(factr = 1, pgtol = 0, maxit = 1e5)))
  unrotated_ml <- psych_signs(unclass(ml$loadings))
  rotated_ml <- psych_order(if (k > 1) unclass(varimax(unrotated_ml)$loadings) else unrotated_ml)
  write_table(data.frame(indicator = colnames(x), unrotated_ml, uniqueness = ml$uniquenesses), dataset,
              "ml_loadings_unrotated")
  write_table(data.frame(indicator = colnames(x), rotated_ml), dataset, "ml_loadings_rotated")
  stats <- fa.stats(r, unrotated_ml, n.obs = nrow(x), alpha = 0.1)
  write_table(data.frame(objective = stats$objective, chi_square = stats$STATISTIC, df = stats$dof,
                         p_value = stats$PVAL,
                         log_p_value = pchisq(stats$STATISTIC, stats$dof, lower.tail = FALSE, log.p = TRUE),
                         null_chi_square = stats$null.chisq, null_df = stats$null.dof, tli = stats$TLI,
                         rmsea = stats$RMSEA[["RMSEA"]], rmsea_lower = rmsea_bound(stats, nrow(x), 0.95),
                         rmsea_upper = rmsea_bound(stats, nrow(x), 0.05), bic = stats$BIC), dataset, "ml_fit")

  # quartimax of two principal components: psych's (GPArotation::quartimax: no normalization, gradient norm 1e-5),
  # and the maximum of the criterion over the angle by optimize (to R's finest tolerance), without and with Kaiser
  # normalization
  if (k == 2) {
    write_table(data.frame(indicator = colnames(x), unclass(principal(x, nfactors = k, rotate = "quartimax")$loadings),
                           check.names = FALSE), dataset, "quartimax_psych")
    l <- unclass(unrotated$loadings)
    turn <- function(t) matrix(c(cos(t), sin(t), -sin(t), cos(t)), 2)
    for (normalized in c(FALSE, TRUE)) {
      h <- if (normalized) sqrt(rowSums(l^2)) else rep(1, nrow(l))
      angle <- optimize(function(t) sum(((l / h) %*% turn(t))^4), c(-pi / 4, pi / 4), maximum = TRUE,
                        tol = 1e-12)$maximum
      write_table(data.frame(indicator = colnames(x), psych_order(l %*% turn(angle))), dataset,
                  paste0("quartimax_", if (normalized) "kaiser" else "raw"))
    }
  }

  # oblique rotations of two factors: principal components with promax as psych::fa rotates (kaiser(L, "Promax"):
  # rows normalized around the whole promax, so the target is formed from normalized loadings) and with
  # GPArotation's oblimin; principal axes (converged tightly) with promax. Pattern, factor correlations, structure,
  # regression and Bartlett score weights (factor.scores), and SS loadings diag(Phi P'P), columns in psych's order
  # (by those sums) and sign (each pattern column summing positive).
  if (k == 2) {
    unrotated_pc <- unclass(principal(x, nfactors = k, rotate = "none")$loadings)
    obliques <- list(
      pc_promax = kaiser(unrotated_pc, rotate = "Promax"),
      pc_oblimin = principal(x, nfactors = k, rotate = "oblimin"),
      pa_promax = fa(x, nfactors = k, fm = "pa", rotate = "promax", min.err = 1e-13, max.iter = 1e5))
    for (name in names(obliques)) {
      pattern <- unclass(obliques[[name]]$loadings)
      phi <- obliques[[name]]$Phi
      ss <- diag(phi %*% t(pattern) %*% pattern)
      turn <- diag(sign(colSums(pattern)))[, order(ss, decreasing = TRUE)]
      pattern <- pattern %*% turn
      phi <- t(turn) %*% phi %*% turn
      write_table(data.frame(indicator = colnames(x), pattern), dataset, paste0("oblique_", name, "_pattern"))
      write_table(data.frame(factor = paste0("F", 1:k), phi), dataset, paste0("oblique_", name, "_phi"))
      write_table(data.frame(indicator = colnames(x), pattern %*% phi), dataset, paste0("oblique_", name, "_structure"))
      for (method in c("Thurstone", "Bartlett")) {
        w <- factor.scores(r, pattern, Phi = phi, method = method)$weights
        write_table(data.frame(indicator = colnames(x), w), dataset, paste0("oblique_", name, "_weights_", method))
      }
      write_table(data.frame(factor = paste0("F", 1:k), ss_loadings = diag(phi %*% t(pattern) %*% pattern)),
                  dataset, paste0("oblique_", name, "_variance"))
    }
  }

  fit <- principal(x, nfactors = k, rotate = "varimax", scores = TRUE)
  write_table(data.frame(indicator = colnames(x), unclass(fit$loadings), check.names = FALSE),
              dataset, "loadings_rotated")
  write_table(data.frame(indicator = colnames(x), communality = fit$communality), dataset, "communalities")
  vaccounted <- t(fit$Vaccounted)
  write_table(data.frame(factor = rownames(vaccounted), vaccounted, check.names = FALSE), dataset, "variance")
  write_table(data.frame(indicator = colnames(x), fit$weights, check.names = FALSE), dataset, "weights")

  ss <- colSums(unclass(fit$loadings)^2)
  composite <- as.vector(fit$scores %*% (ss / sum(ss)))
  bounds <- quantile(composite, c(0.90, 0.70, 0.30), type = 7)
  grade <- ifelse(composite >= bounds[1], "AAA",
           ifelse(composite >= bounds[2], "AA",
           ifelse(composite >= bounds[3], "A", "A-")))
  write_table(data.frame(customer_id = input[, 1], fit$scores, composite_score = composite, grade = grade,
                         check.names = FALSE), dataset, "scores")
  cat(dataset, ": n =", nrow(x), " p =", ncol(x), " k =", k, "\n")
}
cat("psych", as.character(packageVersion("psych")), "on", R.version.string, "\n")

# harman74: a published correlation matrix and its n (data/raw/harman74, Harman74.cor of R's datasets), no raw
# data: KMO, Bartlett with n = 145, eigenvalues, and maximum likelihood with four factors as above (factanal
# converged tightly, psych's sign and order rule, varimax, fa.stats)
published <- read.csv("data/raw/harman74/harman74_correlations.csv", check.names = FALSE)
r <- as.matrix(published[, -1])
rownames(r) <- published[, 1]
n <- 145
k <- 4
dir.create("tests/reference/harman74", showWarnings = FALSE)
kmo <- KMO(r)
write_table(data.frame(indicator = c(colnames(r), "overall"), msa = c(kmo$MSAi, kmo$MSA)), "harman74", "kmo")
bartlett <- cortest.bartlett(r, n = n)
write_table(data.frame(chi_square = bartlett$chisq, df = bartlett$df, p_value = bartlett$p.value,
                       log_p_value = pchisq(bartlett$chisq, bartlett$df, lower.tail = FALSE, log.p = TRUE)),
            "harman74", "bartlett")
write_table(data.frame(component = seq_len(ncol(r)), eigenvalue = eigen(r)$values), "harman74", "eigenvalues")
ml <- factanal(covmat = r, factors = k, n.obs = n, rotation = "none",
               control = list(lower = 0.005, opt = list(factr = 1, pgtol = 0, maxit = 1e5)))
unrotated_ml <- psych_signs(unclass(ml$loadings))
write_table(data.frame(indicator = colnames(r), unrotated_ml, uniqueness = ml$uniquenesses), "harman74",
            "ml_loadings_unrotated")
write_table(data.frame(indicator = colnames(r), psych_order(unclass(varimax(unrotated_ml)$loadings))), "harman74",
            "ml_loadings_rotated")
stats <- fa.stats(r, unrotated_ml, n.obs = n, alpha = 0.1)
write_table(data.frame(objective = stats$objective, chi_square = stats$STATISTIC, df = stats$dof,
                       p_value = stats$PVAL, log_p_value = pchisq(stats$STATISTIC, stats$dof, lower.tail = FALSE,
                                                                  log.p = TRUE),
                       null_chi_square = stats$null.chisq, null_df = stats$null.dof, tli = stats$TLI,
                       rmsea = stats$RMSEA[["RMSEA"]], rmsea_lower = rmsea_bound(stats, n, 0.95),
                       rmsea_upper = rmsea_bound(stats, n, 0.05), bic = stats$BIC), "harman74", "ml_fit")
cat("harman74 : n =", n, " p =", ncol(r), " k =", k, "\n")


# ability: a published covariance matrix given as its lower triangle (data/raw/ability, ability.cov of R's
# datasets), turned into correlations by cov2cor, n = 112: KMO, Bartlett, and fa(fm = "pa", rotate = "promax")
# converged tightly, pattern, factor correlations and structure in psych's order and sign, SS loadings.
published <- read.csv("data/raw/ability/ability_covariances.csv", check.names = FALSE)
s <- as.matrix(published[, -1])
s[upper.tri(s)] <- t(s)[upper.tri(s)]
stopifnot(isTRUE(all.equal(unname(s), unname(ability.cov$cov), tolerance = 0)))
r <- cov2cor(s)
rownames(r) <- colnames(r)
n <- 112
dir.create("tests/reference/ability", showWarnings = FALSE)
kmo <- KMO(r)
write_table(data.frame(indicator = c(colnames(r), "overall"), msa = c(kmo$MSAi, kmo$MSA)), "ability", "kmo")
bartlett <- cortest.bartlett(r, n = n)
write_table(data.frame(chi_square = bartlett$chisq, df = bartlett$df,
                       log_p_value = pchisq(bartlett$chisq, bartlett$df, lower.tail = FALSE, log.p = TRUE)),
            "ability", "bartlett")
f <- fa(r, nfactors = 2, n.obs = n, fm = "pa", rotate = "promax", min.err = 1e-13, max.iter = 1e5)
pattern <- unclass(f$loadings)
phi <- f$Phi
ss <- diag(phi %*% t(pattern) %*% pattern)
turn <- diag(sign(colSums(pattern)))[, order(ss, decreasing = TRUE)]
pattern <- pattern %*% turn
phi <- t(turn) %*% phi %*% turn
write_table(data.frame(indicator = colnames(r), pattern, communality = rowSums((pattern %*% phi) * pattern)),
            "ability", "pa_promax_pattern")
write_table(data.frame(factor = c("F1", "F2"), phi), "ability", "pa_promax_phi")
write_table(data.frame(indicator = colnames(r), pattern %*% phi), "ability", "pa_promax_structure")
cat("ability : n =", n, " p =", ncol(r), " k = 2\n")
