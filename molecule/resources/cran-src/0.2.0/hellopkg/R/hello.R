hello <- function() "hello from hellopkg 0.2.0"
