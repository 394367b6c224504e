#include <R.h>
void broken(void) { this_is_not_c_plumber_hosting_marker; }
