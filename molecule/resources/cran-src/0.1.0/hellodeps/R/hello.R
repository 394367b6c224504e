hello <- function() {
  c(greeting, version) %<-% list("hello from hellodeps", as.character(utils::packageVersion("hellodeps")))
  paste(greeting, version)
}
