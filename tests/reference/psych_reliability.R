# Reference values from R psych for crmlib's reliability module (crmlib/reliability.py).
#
# Run from the repository root with `make reference` (needs R with psych; Debian:
# apt-get install -y r-base-core r-cran-psych r-cran-gparotation). For the satisfaction
# survey (data/raw/satisfaction/satisfaction.csv, 250 respondents, items scored 0-10)
# it writes, per block of items and for all 27 items together, to
# tests/reference/satisfaction/:
#   alpha_<block>.csv   psych::alpha(x)$total
#   items_<block>.csv   psych::alpha(x)$item.stats and $alpha.drop (raw_alpha, std.alpha)
#   pa_*.csv            principal axis factoring of all items, 6 factors (see below)
#   omega_<block>.csv   omega total from psych::fa(x, nfactors = 1, fm = "minres"):
#                       (sum of loadings)^2 / ((sum of loadings)^2 + sum of uniquenesses)
suppressPackageStartupMessages(library(psych))
options(digits = 15)

data <- read.csv("data/raw/satisfaction/satisfaction.csv")
blocks <- list(imag = paste0("imag", 1:5), expe = paste0("expe", 1:5), qual = paste0("qual", 1:5),
               val = paste0("val", 1:4), sat = paste0("sat", 1:4), loy = paste0("loy", 1:4))
blocks$all <- unlist(blocks, use.names = FALSE)
out <- "tests/reference/satisfaction"

# alpha_<name>.csv, items_<name>.csv and (with omega = TRUE) omega_<name>.csv for the items x.
write_reliability <- function(x, out, name, omega = TRUE) {
  a <- alpha(x, warnings = FALSE)
  write.csv(a$total, file.path(out, paste0("alpha_", name, ".csv")), row.names = FALSE)
  items <- data.frame(item = rownames(a$item.stats), a$item.stats,
                      alpha_if_deleted = a$alpha.drop$raw_alpha, std_alpha_if_deleted = a$alpha.drop$std.alpha)
  write.csv(items, file.path(out, paste0("items_", name, ".csv")), row.names = FALSE)
  if (omega) {
    f <- fa(x, nfactors = 1, fm = "minres")
    loadings <- as.vector(f$loadings)
    if (sum(loadings) < 0) loadings <- -loadings
    common <- sum(loadings)^2
    write.csv(data.frame(omega_total = common / (common + sum(f$uniquenesses)), sum_loadings = sum(loadings),
                         sum_uniquenesses = sum(f$uniquenesses)),
              file.path(out, paste0("omega_", name, ".csv")), row.names = FALSE)
  }
}

for (name in names(blocks)) {
  write_reliability(data[, blocks[[name]]], out, name)
}
cat("psych", as.character(packageVersion("psych")), "on", R.version.string, "\n")

# Validity of all 27 items: KMO, Bartlett, and fa(x, 6, fm = "minres", rotate = "oblimin") pattern
# loadings and factor correlations (GPArotation's oblimin, gamma = 0).
x <- data[, blocks$all]
kmo <- KMO(x)
write.csv(data.frame(indicator = c(colnames(x), "overall"), msa = c(kmo$MSAi, kmo$MSA)),
          file.path(out, "kmo_all.csv"), row.names = FALSE)
bartlett <- cortest.bartlett(cor(x), n = nrow(x))
write.csv(data.frame(chi_square = bartlett$chisq, df = bartlett$df, p_value = bartlett$p.value,
                     log_p_value = pchisq(bartlett$chisq, bartlett$df, lower.tail = FALSE, log.p = TRUE)),
          file.path(out, "bartlett_all.csv"), row.names = FALSE)
# pa_loadings_unrotated.csv, pa_loadings_rotated.csv, pa_communalities.csv, pa_weights.csv: principal axis
# factoring of all items, 6 factors, converged tightly (psych's default stops at min.err = 0.001).
for (rotation in c("none", "varimax")) {
  pa <- fa(x, nfactors = 6, fm = "pa", rotate = rotation, scores = "regression", min.err = 1e-13, max.iter = 1e5)
  name <- if (rotation == "none") "unrotated" else "rotated"
  write.csv(data.frame(indicator = colnames(x), unclass(pa$loadings), check.names = FALSE),
            file.path(out, paste0("pa_loadings_", name, ".csv")), row.names = FALSE)
}
write.csv(data.frame(indicator = colnames(x), communality = pa$communality),
          file.path(out, "pa_communalities.csv"), row.names = FALSE)
write.csv(data.frame(indicator = colnames(x), pa$weights, check.names = FALSE),
          file.path(out, "pa_weights.csv"), row.names = FALSE)
# efa_<fm>_<rotation>_loadings.csv and _phi.csv: minres (psych's default convergence) and principal axes
# (converged tightly) of all items, 6 factors, each rotation (GPArotation's oblimin and quartimax and psych's promax
# at their default tolerances)
# efa_pa_quartimax_tight_loadings.csv: those principal axes unrotated, turned by GPArotation's quartimax with its
# gradient norm at 1e-7 (the finest at which its step test still converges here; at psych's default, 1e-5, it
# stops about 1e-4 from the maximum)
unrotated <- unclass(fa(x, nfactors = 6, fm = "pa", rotate = "none", min.err = 1e-13, max.iter = 1e5)$loadings)
tight <- unclass(GPArotation::quartimax(unrotated, eps = 1e-7, maxit = 1e5)$loadings)
tight <- tight[, order(colSums(tight^2), decreasing = TRUE)]
write.csv(data.frame(item = colnames(x), tight %*% diag(sign(colSums(tight)))),
          file.path(out, "efa_pa_quartimax_tight_loadings.csv"), row.names = FALSE)
for (fm in c("minres", "pa")) {
  for (rotation in c("oblimin", "varimax", "promax", "quartimax")) {
    f <- if (fm == "pa") fa(x, nfactors = 6, fm = fm, rotate = rotation, min.err = 1e-13, max.iter = 1e5) else
      fa(x, nfactors = 6, fm = fm, rotate = rotation)
    write.csv(data.frame(item = colnames(x), unclass(f$loadings), check.names = FALSE),
              file.path(out, paste0("efa_", fm, "_", rotation, "_loadings.csv")), row.names = FALSE)
    if (!is.null(f$Phi)) {
      write.csv(data.frame(factor = colnames(f$Phi), f$Phi, check.names = FALSE),
                file.path(out, paste0("efa_", fm, "_", rotation, "_phi.csv")), row.names = FALSE)
    }
  }
}

# The synthetic SZ staff survey: the cleaned answers the pipeline analyses (reverse-keyed items reversed,
# straight-liners dropped, skipped answers imputed), written by export_inputs.py to tests/reference/sz/input.csv.
# Per dimension and overall: psych::alpha(x)$total and item statistics, omega total (one-factor minres);
# for all items: KMO, Bartlett, and principal(x, k, rotate = "varimax") with k = 4 (the case's parallel analysis).
sz <- read.csv("tests/reference/sz/input.csv", check.names = FALSE)
items <- sz[, -1]
sz_blocks <- list(goals = paste0("g", 1:4), information = paste0("i", 1:4), effectiveness = paste0("e", 1:4),
                  system = paste0("s", 1:4))
sz_blocks$overall <- colnames(items)
out <- "tests/reference/sz"
for (name in names(sz_blocks)) {
  write_reliability(items[, sz_blocks[[name]]], out, name, omega = name != "overall")
}
kmo <- KMO(items)
write.csv(data.frame(indicator = c(colnames(items), "overall"), msa = c(kmo$MSAi, kmo$MSA)),
          file.path(out, "kmo.csv"), row.names = FALSE)
bartlett <- cortest.bartlett(cor(items), n = nrow(items))
write.csv(data.frame(chi_square = bartlett$chisq, df = bartlett$df, p_value = bartlett$p.value,
                     log_p_value = pchisq(bartlett$chisq, bartlett$df, lower.tail = FALSE, log.p = TRUE)),
          file.path(out, "bartlett.csv"), row.names = FALSE)
p <- principal(items, nfactors = 4, rotate = "varimax")
write.csv(data.frame(item = colnames(items), unclass(p$loadings), check.names = FALSE),
          file.path(out, "principal_varimax_loadings.csv"), row.names = FALSE)

# bfi (data/raw/bfi/bfi.csv, psych's 2800 respondents, 25 personality items scored 1-6, with missing answers):
# psych's pairwise defaults. The reverse-keyed items (A1, C4, C5, E1, E2, O2, O5) are turned as 7 - x, as the
# params turn them. To tests/reference/bfi/: alpha_<block>.csv and items_<block>.csv (alpha() of the items with
# their missing answers: pairwise covariances, the scale score the mean of the answered items); omega_<block>.csv
# from the one-factor minimum residual solution converged tightly (fa(fm = "pa", min.err = 1e-13), its minimum);
# kmo_all.csv (KMO(x), pairwise correlations), bartlett_all.csv (cortest.bartlett(x): pairwise correlations and
# n = the number of rows, 2800), pair_counts.csv (pairwiseCount(x)), efa_pa_oblimin_loadings.csv and _phi.csv
# (fa(x, 5, fm = "pa", rotate = "oblimin") converged tightly).
bfi_file <- read.csv("data/raw/bfi/bfi.csv")
x <- bfi_file[, 2:26]
for (item in c("A1", "C4", "C5", "E1", "E2", "O2", "O5")) x[[item]] <- 7 - x[[item]]
out <- "tests/reference/bfi"
dir.create(out, showWarnings = FALSE)
bfi_blocks <- lapply(c(agreeableness = "A", conscientiousness = "C", extraversion = "E", neuroticism = "N",
                       openness = "O"), function(letter) paste0(letter, 1:5))
bfi_blocks$overall <- colnames(x)
for (name in names(bfi_blocks)) {
  write_reliability(x[, bfi_blocks[[name]]], out, name, omega = FALSE)
  if (name != "overall") {
    f <- fa(x[, bfi_blocks[[name]]], nfactors = 1, fm = "pa", min.err = 1e-13, max.iter = 1e5)
    loadings <- as.vector(f$loadings)
    if (sum(loadings) < 0) loadings <- -loadings
    common <- sum(loadings)^2
    write.csv(data.frame(omega_total = common / (common + sum(f$uniquenesses))),
              file.path(out, paste0("omega_", name, ".csv")), row.names = FALSE)
  }
}
kmo <- KMO(x)
write.csv(data.frame(indicator = c(colnames(x), "overall"), msa = c(kmo$MSAi, kmo$MSA)),
          file.path(out, "kmo_all.csv"), row.names = FALSE)
bartlett <- suppressMessages(cortest.bartlett(x))
write.csv(data.frame(chi_square = bartlett$chisq, df = bartlett$df, p_value = bartlett$p.value,
                     log_p_value = pchisq(bartlett$chisq, bartlett$df, lower.tail = FALSE, log.p = TRUE)),
          file.path(out, "bartlett_all.csv"), row.names = FALSE)
write.csv(data.frame(item = colnames(x), pairwiseCount(x), check.names = FALSE), file.path(out, "pair_counts.csv"),
          row.names = FALSE)
f <- fa(x, nfactors = 5, fm = "pa", rotate = "oblimin", min.err = 1e-13, max.iter = 1e5)
write.csv(data.frame(item = colnames(x), unclass(f$loadings), check.names = FALSE),
          file.path(out, "efa_pa_oblimin_loadings.csv"), row.names = FALSE)
write.csv(data.frame(factor = colnames(f$Phi), f$Phi, check.names = FALSE),
          file.path(out, "efa_pa_oblimin_phi.csv"), row.names = FALSE)
