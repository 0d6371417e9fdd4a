// Package localkms serves github.com/nsmithuk/local-kms, an AWS-KMS-compatible
// server written in Go, for piiguard's tests of kms/awskms: in a test
// process through httptest (the tests of this module), or as a process of
// its own on 127.0.0.1 (cmd/localkms, which scripts/integration.sh starts
// for the end-to-end tests).
//
// It lives in a module of its own, nested in piiguard's, so that local-kms
// and what it pulls in (the AWS SDK for Go v1, LevelDB, logrus, btcec) are
// not requirements of piiguard's module, which applications import.
//
// Two gaps between local-kms and AWS KMS are closed here: a Decrypt
// request naming a key other than the one the ciphertext was made under is
// answered IncorrectKeyException, as AWS KMS does (local-kms decrypts with
// the named key's material and ignores the key ARN inside the blob), and a
// handler panic on a blob shorter than a GCM nonce is answered
// InvalidCiphertextException instead of crashing the request.
package localkms

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"

	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
	"github.com/nsmithuk/local-kms/src/handler"
	"github.com/nsmithuk/local-kms/src/service"
	"github.com/sirupsen/logrus"
)

// Region and Account are the region and account ID the server answers for.
const (
	Region  = "eu-west-2"
	Account = "111122223333"
)

// Server is a local-kms request handler over a LevelDB database.
type Server struct {
	db     *data.Database
	logger *logrus.Logger
	// panics counts handler panics recovered.
	panics atomic.Int64
}

// New returns a Server keeping its keys in the directory dir. local-kms
// keeps its settings in package variables, so one process serves one
// Server at a time.
func New(dir string) *Server {
	config.AWSRegion = Region
	config.AWSAccountId = Account
	config.DatabasePath = dir
	logger := logrus.New()
	logger.Out = io.Discard
	return &Server{db: data.NewDatabase(dir), logger: logger}
}

// Close closes the database.
func (s *Server) Close() { s.db.Close() }

// Panics returns how many handler panics were recovered.
func (s *Server) Panics() int64 { return s.panics.Load() }

// ServeHTTP dispatches one request as local-kms's own server does (the
// X-Amz-Target header names a RequestHandler method).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := strings.Split(r.Header.Get("X-Amz-Target"), ".")
	defer func() {
		if p := recover(); p != nil {
			s.panics.Add(1)
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			if len(target) == 2 && target[1] == "Decrypt" {
				w.WriteHeader(400)
				_, _ = io.WriteString(w, `{"__type":"InvalidCiphertextException"}`)
				return
			}
			w.WriteHeader(500)
			_, _ = io.WriteString(w, `{"__type":"KMSInternalException"}`)
		}
	}()
	if r.Method != http.MethodPost || !strings.Contains(r.Header.Get("Content-Type"), "json") || len(target) != 2 {
		http.Error(w, "not an AWS KMS request", http.StatusBadRequest)
		return
	}
	if target[1] == "Decrypt" && s.incorrectKey(r) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(400)
		_, _ = io.WriteString(w, `{"__type":"IncorrectKeyException","message":"The key ID in the request does not identify a CMK that can perform this operation."}`)
		return
	}
	h := handler.NewRequestHandler(r, s.logger, s.db)
	method := reflect.ValueOf(h).MethodByName(target[1])
	if !method.IsValid() {
		http.Error(w, "not implemented", http.StatusNotImplemented)
		return
	}
	resp := method.Call(nil)[0].Interface().(handler.Response)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(resp.Code)
	_, _ = io.WriteString(w, resp.Body)
}

// incorrectKey reports whether a Decrypt request names (KeyId) a key other
// than the one its ciphertext blob was made under. r.Body stays readable.
func (s *Server) incorrectKey(r *http.Request) bool {
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return false
	}
	var in struct {
		KeyId          *string
		CiphertextBlob []byte
	}
	if json.Unmarshal(body, &in) != nil || in.KeyId == nil {
		return false
	}
	ident, _, _, ok := service.UnpackCiphertextBlob(in.CiphertextBlob)
	if !ok {
		return false // local-kms answers InvalidCiphertextException itself
	}
	keyID := *in.KeyId
	if strings.Contains(keyID, "alias/") {
		alias, err := s.db.LoadAlias(config.EnsureArn("", keyID))
		if err != nil {
			return false // local-kms answers for the unknown alias itself
		}
		keyID = alias.TargetKeyId
	}
	keyARN := config.EnsureArn("key/", keyID)
	if _, err := s.db.LoadKey(keyARN); err != nil {
		return false // local-kms answers for the unknown key itself
	}
	return ident != keyARN
}
