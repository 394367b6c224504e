# Reads its greeting from the environment (plumber_apis[].env), so tests can see env reach the workers.
greeting <- Sys.getenv("GREETING", "GREETING is not set")

#* @serializer unboxedJSON
#* @get /greet
function(name = "world") {
  list(greeting = paste0(greeting, ", ", name), secret_length = nchar(Sys.getenv("API_TOKEN")))
}
