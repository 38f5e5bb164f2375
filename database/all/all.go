// Package all registers every database driver collide ships: import it
// for its side effects (import _ ".../database/all") wherever drivers are
// looked up by name.
package all

import (
	_ "github.com/collide-dev/collide/database/mysql"    // registers "mysql"
	_ "github.com/collide-dev/collide/database/postgres" // registers "postgres"
	_ "github.com/collide-dev/collide/database/redis"    // registers "redis"
	_ "github.com/collide-dev/collide/database/sqlite"   // registers "sqlite"
)
