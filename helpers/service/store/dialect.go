package store

import (
	"strconv"
	"strings"
)

// The SQL of this package is written for SQLite: ? placeholders, INTEGER
// times. q and ddl translate it for PostgreSQL; nothing else differs (both
// have ON CONFLICT upserts and RETURNING).

// q is query in the database's placeholder style.
func (s *DB) q(query string) string {
	if !s.pg {
		return query
	}
	return rebind(query)
}

// rebind numbers the ? placeholders $1, $2, … (the queries here have no ? in
// literals).
func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// ddl is a migration statement for PostgreSQL: Unix nanoseconds need 64 bits.
func ddl(stmt string, pg bool) string {
	if !pg {
		return stmt
	}
	return strings.ReplaceAll(stmt, "INTEGER", "BIGINT")
}
