/* SQLite 3, as packaged by Debian (libsqlite3-dev): the experiment database. */
#include <sqlite3.h>
