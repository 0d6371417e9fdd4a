package sqlq

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPostgresLabelNamesHostPortAndDatabaseOnly(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://piiguard:s3cret-pw@db.example.com:5432/app?sslmode=require&password=s3cret-pw": "db.example.com:5432/app",
		"postgresql://piiguard@db.example.com/app":                                                 "db.example.com/app",
		"POSTGRES://u:s3cret-pw@h1:5432,h2:5433/app":                                               "h1:5432,h2:5433/app",
		"postgres://u:p%40ss%2Fs3cret-pw@[::1]:5432/app":                                           "[::1]:5432/app",
		"postgres:///app?host=%2Fvar%2Frun%2Fpostgresql&port=5433":                                 "/var/run/postgresql:5433/app",
		"postgres://%2Fvar%2Frun%2Fpostgresql/app":                                                 "/var/run/postgresql/app",
		"postgres://u:s3cret-pw@db.example.com":                                                    "db.example.com",
		"postgres://u:s3cret-pw@h/app?application_name=a@b":                                        "h/app",
		"  host=db.example.com port=5432 dbname=app user=u password='s3cret pw\\'x'  ":             "db.example.com:5432/app",
		"host = h1,h2 port=5432 dbname=app password=s3cret-pw":                                     "h1:5432,h2:5432/app",
		"host=h1,h2 port=5432,5433 password=s3cret-pw":                                             "h1:5432,h2:5433",
		"hostaddr=::1 port=5432 password=s3cret-pw":                                                "[::1]:5432",
		"password=s3cret-pw host=u:s3cret-pw@h dbname=app":                                         "h/app",
		"dbname=postgres://u:s3cret-pw@h/app":                                                      "h/app",
		"dbname='host=h dbname=app password=s3cret-pw'":                                            "h/app",
		"password=s3cret-pw":                                                                       "",
		"":                                                                                         "",
		"s3cret-pw":                                                                                "",
		"mysql://u:s3cret-pw@h/app":                                                                "",
		"postgres://u:s3cret/pw@h/app":                                                             "", // unescaped '/': the host cannot be told from the password
		"postgres://u:1234?s3cret-pw@h/app":                                                        "",
		"postgres://u:1234#s3cret-pw@h/app":                                                        "",
		"postgres://h/app\n\x00?sslmode=disable":                                                   "h/app",
		"postgres://h/" + strings.Repeat("d", 300):                                                 "h/" + strings.Repeat("d", maxLabel-2) + "…",
	} {
		got := PostgresLabel(dsn)
		assert.Equal(t, want, got, "%q", dsn)
		assert.NotContains(t, got, "s3cret", "%q", dsn)
		assert.NotContains(t, got, "1234", "%q", dsn)
	}
}

func FuzzPostgresLabelNeverShowsThePassword(f *testing.F) {
	f.Add("db.example.com:5432", "/pw", "app?sslmode=disable")
	f.Add("h", "#ss@word", "db")
	f.Add("", "?", "")
	f.Fuzz(func(t *testing.T, host, tail, rest string) {
		// The password is marked, and the rest holds no mark nor anything
		// that might decode to one.
		const mark = "S3CRET"
		password := mark + tail
		if strings.ContainsAny(host+rest, "%\\S") {
			return
		}
		for _, dsn := range []string{
			"postgres://user:" + password + "@" + host + "/" + rest, // as pasted, unescaped
			"postgres://" + url.UserPassword("user", password).String() + "@" + host + "/" + rest,
			"host=" + host + " password='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(password) + "' dbname=" + rest,
		} {
			if got := PostgresLabel(dsn); strings.Contains(got, mark) {
				t.Fatalf("PostgresLabel(%q) = %q shows the password", dsn, got)
			}
		}
	})
}
