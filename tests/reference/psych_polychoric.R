# Reference values from R psych for crmlib's ordinal path (crmlib.ordinal): polychoric correlations and their
# thresholds, ordinal alpha per dimension, and KMO and Bartlett's test of the polychoric matrix (the factor analyses
# of a correlation matrix are compared in psych_reference.R and psych_omega.R), on the trust, honesty and compassion
# items of the SAPA Personality Inventory (psychTools `spi`, 4,000 respondents, answers 1-6).
#
# Run from the repository root with `make reference`. Needs R with psych and mnormt, its dependency (Debian:
# apt-get install -y r-base-core r-cran-psych). It writes to tests/reference/spi/:
#   polychoric_psych.csv, thresholds_psych.csv
#                          psych::polychoric(x) as psych computes it (optimize to R's default tolerance, about 1e-4;
#                          mnormt::sadmvn's integration to 1e-6)
#   polychoric_tight.csv   the same steps converged tightly: thresholds qnorm of each item's cumulative shares,
#                          each pair's likelihood from mnormt::biv.nt.prob (exact to double precision), maximized by
#                          optimize(tol = 1e-12)
#   ordinal_alpha.csv      alpha(r)$total$std.alpha of the tight matrix, per dimension and overall
#   kmo.csv, bartlett.csv  KMO(r) and cortest.bartlett(r, n = 4000) of the tight matrix
#   smooth_input.csv, smooth_output.csv
#                          cor.smooth of a correlation matrix that is not positive definite
suppressPackageStartupMessages(library(psych))
options(digits = 17)
out <- "tests/reference/spi"

spi_file <- read.csv("data/raw/spi/spi_trust_honesty_compassion.csv")
items <- setdiff(names(spi_file), c("sex", "age"))
x <- as.matrix(spi_file[, items])
for (item in c("q_871", "q_4296", "q_501", "q_1896")) x[, item] <- 7 - x[, item]  # the reverse-keyed items

points <- 1:6
tau <- apply(x, 2, function(v) qnorm(cumsum(tabulate(v, length(points)) / sum(!is.na(v))))[-length(points)])
cells <- function(rho, row_cuts, column_cuts) {
  r <- c(-Inf, row_cuts, Inf)
  s <- c(-Inf, column_cuts, Inf)
  sigma <- matrix(c(1, rho, rho, 1), 2)
  p <- matrix(0, length(r) - 1, length(s) - 1)
  for (a in seq_len(nrow(p))) for (b in seq_len(ncol(p)))
    p[a, b] <- mnormt::biv.nt.prob(Inf, c(r[a], s[b]), c(r[a + 1], s[b + 1]), c(0, 0), sigma)
  p
}
tight <- diag(ncol(x))
dimnames(tight) <- list(items, items)
for (i in 2:ncol(x)) for (j in 1:(i - 1)) {
  both <- !is.na(x[, i]) & !is.na(x[, j])
  table <- table(factor(x[both, i], points), factor(x[both, j], points))
  table <- table / sum(table)
  minus_log_likelihood <- function(rho) {
    p <- cells(rho, tau[, i], tau[, j])
    kept <- p > 0
    -sum(table[kept] * log(p[kept]))
  }
  tight[i, j] <- tight[j, i] <- optimize(minus_log_likelihood, c(-1, 1), tol = 1e-12)$minimum
}
psych_poly <- polychoric(x)
write.csv(psych_poly$rho, file.path(out, "polychoric_psych.csv"))
write.csv(psych_poly$tau, file.path(out, "thresholds_psych.csv"))
write.csv(tight, file.path(out, "polychoric_tight.csv"))

blocks <- list(trust = items[1:5], honesty = items[6:10], compassion = items[11:15], overall = items)
write.csv(data.frame(dimension = names(blocks),
                     ordinal_alpha = sapply(blocks, function(b) alpha(tight[b, b])$total$std.alpha)),
          file.path(out, "ordinal_alpha.csv"), row.names = FALSE)
kmo <- KMO(tight)
write.csv(data.frame(item = c(items, "overall"), msa = c(kmo$MSAi, kmo$MSA)), file.path(out, "kmo.csv"),
          row.names = FALSE)
bartlett <- cortest.bartlett(tight, n = nrow(x))
write.csv(data.frame(chi_square = bartlett$chisq, df = bartlett$df), file.path(out, "bartlett.csv"), row.names = FALSE)

not_definite <- matrix(c(1, 0.9, 0.2, 0.9, 1, 0.7, 0.2, 0.7, 1), 3)
not_definite[1, 3] <- not_definite[3, 1] <- -0.3
write.csv(not_definite, file.path(out, "smooth_input.csv"), row.names = FALSE)
write.csv(suppressWarnings(cor.smooth(not_definite)), file.path(out, "smooth_output.csv"), row.names = FALSE)
