# Reference values from R psych for crmlib's omega hierarchical (crmlib.reliability.omega_hierarchical): the
# Schmid-Leiman solution of a questionnaire with one group factor per designed dimension.
#
# Run from the repository root with `make reference` (after export_inputs.py, which writes the SZ input). Needs R
# with psych and GPArotation (Debian: apt-get install -y r-base-core r-cran-psych r-cran-gparotation). For each
# questionnaire (satisfaction: 27 items, 6 blocks; sz: 16 items, 4 blocks; bfi: 25 items, 5 blocks, pairwise
# correlations of the answers with their missing values; and the satisfaction survey's image and loyalty items with
# two group factors, as omega_h_two_*.csv) it writes to tests/reference/<questionnaire>/:
#   omega_h_psych.csv     psych::omega(x, nfactors = k, plot = FALSE) as psych computes it: omega_h, omega.tot,
#                         omega.lim, alpha, ECV (its minres and oblimin stop at R's default tolerances)
#   omega_h_tight.csv, omega_h_loadings.csv, omega_h_groups.csv
#                         the same steps converged tightly, written out as psych's omegah() computes them:
#                         minres as its fixed point (fa(fm = "pa", min.err = 1e-13, max.iter = 1e5)), oblimin by
#                         GPArotation::oblimin(eps = OBLIMIN_EPS) from the varimax loadings, the general factor's
#                         loadings one tight factor of Phi (k >= 3) or sqrt(|phi12|) for k = 2 (option "equal"),
#                         items with a negative general loading reversed (flip = TRUE)
suppressPackageStartupMessages({library(psych); library(GPArotation)})
options(digits = 15)
OBLIMIN_EPS <- 1e-7

tight_omega <- function(x, k) {
  r <- cor(x, use = "pairwise")
  orth <- unclass(fa(r, k, fm = "pa", rotate = "varimax", min.err = 1e-13, max.iter = 1e5)$loadings)
  rotated <- GPArotation::oblimin(orth, eps = OBLIMIN_EPS, maxit = 20000)
  stopifnot(rotated$convergence)
  pattern <- unclass(rotated$loadings)
  phi <- rotated$Phi
  if (k > 2) {
    gamma <- as.vector(fa(phi, 1, fm = "pa", min.err = 1e-13, max.iter = 1e5)$loadings)
  } else {
    gamma <- c(sqrt(abs(phi[1, 2])), sign(phi[1, 2]) * sqrt(abs(phi[1, 2])))
  }
  g <- drop(pattern %*% gamma)
  group <- sign(pattern) * sqrt(pmax(pattern^2 - (pattern %*% diag(gamma))^2, 0))
  h2 <- rowSums(orth^2)
  u2 <- 1 - h2
  key <- ifelse(g < 0, -1, 1)
  g <- g * key
  group <- group * key
  m <- diag(key) %*% r %*% diag(key)
  vt <- sum(m)
  p <- ncol(r)
  ev <- colSums(cbind(g, group)^2)
  summary <- data.frame(n_items = p, n_factors = k, omega_h = sum(g)^2 / vt, omega_total = (vt - sum(u2)) / vt,
                        omega_limit = sum(g)^2 / (vt - sum(u2)), alpha = (vt - p) / vt * p / (p - 1),
                        ecv = ev[1] / sum(ev), items_reversed = sum(key < 0))
  # the group factors in psych's order and sign (by their sums of squares, each summing positive), so that the
  # loadings compare with no alignment
  order <- order(colSums(group^2), decreasing = TRUE)
  group <- group[, order, drop = FALSE]
  group <- group %*% diag(sign(colSums(group)), k)
  colnames(group) <- paste0("F", 1:k, "*")
  loadings <- data.frame(item = colnames(r), g = g, group, h2 = h2, u2 = u2, p2 = g^2 / h2, check.names = FALSE)
  member <- apply(abs(group), 1, which.max)
  rows <- data.frame(factor = "g", total = (vt - sum(u2)) / vt, general = sum(g)^2 / vt, group = NA)
  squares <- 0
  for (j in 1:k) {
    inside <- member == j
    block <- sum(m[inside, inside])
    loading <- sum(group[inside, j])
    squares <- squares + loading^2
    rows <- rbind(rows, data.frame(factor = paste0("F", j, "*"), total = (loading^2 + sum(g[inside])^2) / block,
                                   general = sum(g[inside])^2 / block, group = loading^2 / block))
  }
  rows$group[1] <- squares / vt
  list(summary = summary, loadings = loadings, groups = rows)
}

write_omega <- function(x, k, out, prefix = "omega_h") {
  psych_omega <- suppressMessages(suppressWarnings(omega(x, nfactors = k, plot = FALSE)))
  write.csv(data.frame(omega_h = psych_omega$omega_h, omega_total = psych_omega$omega.tot,
                       omega_limit = psych_omega$omega.lim, alpha = psych_omega$alpha, ecv = psych_omega$ECV),
            file.path(out, paste0(prefix, "_psych.csv")), row.names = FALSE)
  tight <- tight_omega(x, k)
  write.csv(tight$summary, file.path(out, paste0(prefix, "_tight.csv")), row.names = FALSE)
  write.csv(tight$loadings, file.path(out, paste0(prefix, "_loadings.csv")), row.names = FALSE)
  write.csv(tight$groups, file.path(out, paste0(prefix, "_groups.csv")), row.names = FALSE)
}

satisfaction <- read.csv("data/raw/satisfaction/satisfaction.csv")
write_omega(satisfaction[, c(paste0("imag", 1:5), paste0("expe", 1:5), paste0("qual", 1:5), paste0("val", 1:4),
                             paste0("sat", 1:4), paste0("loy", 1:4))], 6, "tests/reference/satisfaction")
# two group factors (image and loyalty items): psych's option "equal"
write_omega(satisfaction[, c(paste0("imag", 1:5), paste0("loy", 1:4))], 2, "tests/reference/satisfaction",
            "omega_h_two")
sz <- read.csv("tests/reference/sz/input.csv", check.names = FALSE)
write_omega(sz[, -1], 4, "tests/reference/sz")
bfi_file <- read.csv("data/raw/bfi/bfi.csv")
x <- bfi_file[, 2:26]
for (item in c("A1", "C4", "C5", "E1", "E2", "O2", "O5")) x[[item]] <- 7 - x[[item]]
write_omega(x, 5, "tests/reference/bfi")
