# Reference values from R psych for the factor analysis of a customer file under pairwise deletion
# (cleaning.missing: pairwise), on the credit_grading case.
#
# Run from the repository root with `make reference` (export_inputs.py first writes
# tests/reference/credit_grading/input.csv: the case's z-scores after stages 01-02, cost indicators reversed,
# a missing indicator left empty). Needs R with psych (Debian: apt-get install -y r-base-core r-cran-psych
# r-cran-gparotation).
#
# Writes, beside the input:
#   correlations.csv   cor(x, use = "pairwise")
#   pair_counts.csv    pairwiseCount(x)
#   kmo.csv            KMO(x): MSAi per indicator, MSA overall (from the pairwise correlations)
#   bartlett.csv       cortest.bartlett(x) (n = nrow(x): every customer, as psych counts it) and the log of its
#                      p value
#   pa_unrotated.csv   fa(x, 2, fm = "pa", rotate = "none", min.err = 1e-13, max.iter = 1e5)$loadings
#   quartimax.csv      those loadings rotated to the quartimax criterion's maximum over the angle (optimize,
#                      R's finest tolerance), no Kaiser normalization (psych's quartimax), psych's sign and order
#   weights.csv        factor.scores(x, quartimax, method = "Bartlett", rho = cor(x, use = "pairwise"))$weights
#   scores_<none|mean|median>.csv
#                      factor.scores(x, quartimax, method = "Bartlett", rho = ..., missing = TRUE, impute = ...)
#                      $scores (impute none: missing = FALSE, scale(x) %*% w, NA for a customer with a missing
#                      indicator), the composite F = sum_j w_j F_j (w_j: SS loadings share) and, for none, the
#                      grade (AAA >= q90, AA >= q70, A >= q30, else A-, quantiles type 7 of the scored customers)
suppressPackageStartupMessages(library(psych))
options(digits = 15)

directory <- "tests/reference/credit_grading"
input <- read.csv(file.path(directory, "input.csv"), check.names = FALSE)
x <- as.matrix(input[, -1])
write_table <- function(frame, name) write.csv(frame, file.path(directory, paste0(name, ".csv")), row.names = FALSE)
labelled <- function(m, first = "indicator") {
  frame <- data.frame(rownames(m), unclass(m), check.names = FALSE)
  names(frame)[1] <- first
  frame
}

r <- cor(x, use = "pairwise")
write_table(labelled(r), "correlations")
write_table(labelled(pairwiseCount(x)), "pair_counts")
adequacy <- KMO(x)
write_table(data.frame(indicator = c(colnames(x), "overall"), msa = c(adequacy$MSAi, adequacy$MSA)), "kmo")
test <- cortest.bartlett(x)
write_table(data.frame(chi_square = test$chisq, df = test$df, p_value = test$p.value,
                       log_p_value = pchisq(test$chisq, test$df, lower.tail = FALSE, log.p = TRUE)), "bartlett")

psych_signs <- function(l) l %*% diag(sign(colSums(l)), ncol(l))
psych_order <- function(l) psych_signs(l[, order(colSums(l^2), decreasing = TRUE), drop = FALSE])
unrotated <- psych_signs(unclass(fa(x, nfactors = 2, fm = "pa", rotate = "none", min.err = 1e-13,
                                    max.iter = 1e5)$loadings))
write_table(labelled(unrotated), "pa_unrotated")
turn <- function(t) matrix(c(cos(t), sin(t), -sin(t), cos(t)), 2)
angle <- optimize(function(t) sum((unrotated %*% turn(t))^4), c(-pi / 4, pi / 4), maximum = TRUE,
                  tol = 1e-12)$maximum
rotated <- psych_order(unrotated %*% turn(angle))
dimnames(rotated) <- list(colnames(x), c("F1", "F2"))
write_table(labelled(rotated), "quartimax")

weights <- factor.scores(x, rotated, method = "Bartlett", rho = r)$weights
write_table(labelled(weights), "weights")
share <- colSums(rotated^2) / sum(rotated^2)
for (impute in c("none", "mean", "median")) {
  scores <- factor.scores(x, rotated, method = "Bartlett", rho = r, missing = impute != "none",
                          impute = impute)$scores
  composite <- drop(scores %*% share)
  frame <- data.frame(customer_id = input[, 1], F1 = scores[, 1], F2 = scores[, 2], composite_score = composite)
  if (impute == "none") {
    bounds <- quantile(composite, c(0.9, 0.7, 0.3), type = 7, na.rm = TRUE)
    frame$grade <- ifelse(is.na(composite), NA, ifelse(composite >= bounds[1], "AAA",
                          ifelse(composite >= bounds[2], "AA", ifelse(composite >= bounds[3], "A", "A-"))))
  }
  write_table(frame, paste0("scores_", impute))
}
