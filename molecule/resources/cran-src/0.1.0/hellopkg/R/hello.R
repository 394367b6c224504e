hello <- function() "hello from hellopkg 0.1.0"
