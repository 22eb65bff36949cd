# Reference values from R lavaan and semTools for crmlib's confirmatory factor analysis of a questionnaire's
# dimensions (crmlib.confirmatory): fit indices, loadings, construct correlations, composite reliability, AVE,
# HTMT, and configural and metric invariance across the groups the case compares.
#
# Run from the repository root with `make reference` (after export_inputs.py, which writes the SZ and A-branch
# answers and attributes). Needs R with lavaan and semTools (Debian: apt-get install -y r-base-core r-cran-lavaan
# r-cran-semtools). lavaan's defaults throughout (ML, the covariance matrix divided by n, markers, expected
# information, listwise deletion), except the optimizer: lavaan's nlminb stops at a relative change of 1e-10 (and
# reports a false convergence below 1e-11), up to 2.5e-5 from the optimum in the loadings of the bfi items; BFGS
# with a relative tolerance of 1e-16 reaches a gradient below 1e-7 (cfa_tight below). For each questionnaire it
# writes to tests/reference/<case>/:
#   lavaan_fit.csv          fitMeasures(fit): ntotal, chisq, df, pvalue, cfi, tli, rmsea, its 90% interval, srmr,
#                           baseline.chisq, baseline.df
#   lavaan_loadings.csv     per item: the construct, est and se (parameterEstimates), est.std and se of the
#                           standardizedSolution
#   lavaan_correlations.csv the constructs' correlations of the standardizedSolution, with their se
#   semtools_validity.csv   compRelSEM and AVE with obs.var = FALSE of the CFA of the standardized items (std.ov)
#   semtools_htmt.csv       htmt(model, sample.cov = r) with htmt2 = FALSE and TRUE, r the items' correlations
#                           (pairwise, as the rest of the case's stage 03)
#   lavaan_invariance.csv   configural (group = g) and metric (group.equal = "loadings") fits: chisq, df, pvalue,
#                           cfi, tli, rmsea, and lavTestLRT's chi-square difference
suppressPackageStartupMessages({library(lavaan); library(semTools)})
options(digits = 17)

cfa_tight <- function(...) cfa(..., optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 100000))

syntax <- function(blocks) {
  paste(sprintf("%s =~ %s", names(blocks), sapply(blocks, paste, collapse = " + ")), collapse = "\n")
}

write_cfa <- function(x, blocks, out, group = NULL) {
  dir.create(out, showWarnings = FALSE, recursive = TRUE)
  model <- syntax(blocks)
  items <- unlist(blocks, use.names = FALSE)
  fit <- cfa_tight(model, data = x[, items])
  stopifnot(lavInspect(fit, "converged"), max(abs(lavInspect(fit, "optim.gradient"))) < 1e-6)
  measures <- c("ntotal", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
                "srmr", "baseline.chisq", "baseline.df")
  write.csv(as.data.frame(as.list(fitMeasures(fit, measures))), file.path(out, "lavaan_fit.csv"), row.names = FALSE)
  estimates <- parameterEstimates(fit)
  standardized <- standardizedSolution(fit)
  loading <- estimates$op == "=~"
  write.csv(data.frame(construct = estimates$lhs[loading], item = estimates$rhs[loading],
                       estimate = estimates$est[loading], se = estimates$se[loading],
                       std_loading = standardized$est.std[loading], std_se = standardized$se[loading]),
            file.path(out, "lavaan_loadings.csv"), row.names = FALSE)
  between <- standardized$op == "~~" & standardized$lhs != standardized$rhs
  write.csv(data.frame(construct_a = standardized$lhs[between], construct_b = standardized$rhs[between],
                       correlation = standardized$est.std[between], se = standardized$se[between]),
            file.path(out, "lavaan_correlations.csv"), row.names = FALSE)
  standard <- cfa_tight(model, data = x[, items], std.ov = TRUE)
  write.csv(data.frame(construct = names(blocks),
                       composite_reliability = as.numeric(compRelSEM(standard, obs.var = FALSE)[names(blocks)]),
                       ave = as.numeric(AVE(standard, obs.var = FALSE)[names(blocks)])),
            file.path(out, "semtools_validity.csv"), row.names = FALSE)
  if (length(blocks) > 1) {
    r <- cor(x[, items], use = "pairwise")
    classic <- htmt(model, sample.cov = r, htmt2 = FALSE)
    geometric <- htmt(model, sample.cov = r, htmt2 = TRUE)
    pairs <- t(combn(names(blocks), 2))
    write.csv(data.frame(construct_a = pairs[, 1], construct_b = pairs[, 2], htmt = classic[pairs[, 2:1]],
                         htmt2 = geometric[pairs[, 2:1]]), file.path(out, "semtools_htmt.csv"), row.names = FALSE)
  }
  if (!is.null(group)) {
    data <- cbind(x[, items], group = group)
    data <- data[!is.na(data$group), ]
    configural <- cfa_tight(model, data = data, group = "group")
    metric <- cfa_tight(model, data = data, group = "group", group.equal = "loadings")
    measures <- c("ntotal", "chisq", "df", "pvalue", "cfi", "tli", "rmsea")
    rows <- rbind(fitMeasures(configural, measures), fitMeasures(metric, measures))
    test <- lavTestLRT(configural, metric)
    write.csv(data.frame(model = c("configural", "metric"), rows, delta_chi_square = test[["Chisq diff"]],
                         delta_df = test[["Df diff"]], delta_p_value = test[["Pr(>Chisq)"]]),
              file.path(out, "lavaan_invariance.csv"), row.names = FALSE)
  }
}


hs <- read.csv("data/raw/holzinger_swineford/HolzingerSwineford1939.csv")
write_cfa(hs, list(visual = c("x1", "x2", "x3"), textual = c("x4", "x5", "x6"), speed = c("x7", "x8", "x9")),
          "tests/reference/holzinger_swineford", group = hs$school)

satisfaction <- read.csv("data/raw/satisfaction/satisfaction.csv")
write_cfa(satisfaction, list(image = paste0("imag", 1:5), expectations = paste0("expe", 1:5),
                             quality = paste0("qual", 1:5), value = paste0("val", 1:4),
                             satisfaction = paste0("sat", 1:4), loyalty = paste0("loy", 1:4)),
          "tests/reference/satisfaction", group = satisfaction$gender)

sz <- read.csv("tests/reference/sz/input.csv", check.names = FALSE)
sz_groups <- read.csv("tests/reference/sz/attributes.csv", check.names = FALSE)
write_cfa(sz, list(goals = paste0("g", 1:4), information = paste0("i", 1:4), effectiveness = paste0("e", 1:4),
                   system = paste0("s", 1:4)), "tests/reference/sz", group = sz_groups$role)

a_branch <- read.csv("tests/reference/a_branch/input.csv", check.names = FALSE)
a_branch_groups <- read.csv("tests/reference/a_branch/attributes.csv", check.names = FALSE)
write_cfa(a_branch, list(crm_system = paste0("c", 1:4), process = paste0("p", 1:4), service = paste0("v", 1:4),
                         capability = paste0("k", 1:4)), "tests/reference/a_branch", group = a_branch_groups$tier)

bfi_file <- read.csv("data/raw/bfi/bfi.csv")
x <- bfi_file[, 2:26]
for (item in c("A1", "C4", "C5", "E1", "E2", "O2", "O5")) x[[item]] <- 7 - x[[item]]
write_cfa(x, list(agreeableness = paste0("A", 1:5), conscientiousness = paste0("C", 1:5),
                  extraversion = paste0("E", 1:5), neuroticism = paste0("N", 1:5), openness = paste0("O", 1:5)),
          "tests/reference/bfi", group = bfi_file$gender)
