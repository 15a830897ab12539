# Runs the testthat suite against the MinKNOW simulator. The suite needs
# MINKNOW_SIM (the minknow-sim binary); see tests/testthat/helper-sim.R.
library(testthat)
library(minknowauth)

test_check("minknowauth")
