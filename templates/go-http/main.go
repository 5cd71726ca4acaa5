// Command go-http is a tiny stdlib-only web app for paas: it shows its
// release and a greeting.
package main

import (
	"context"
	"errors"
	"html/template"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>go-http on paas</title></head>
<body>
  <h1>{{.Greeting}} from go-http</h1>
  <p>Release {{.Release}}</p>
  <p id="release">release={{.Release}}</p>
  <p id="greeting">greeting={{.Greeting}}</p>
</body>
</html>
`))

func getenv(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

func index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	page.Execute(w, struct{ Release, Greeting string }{
		Release:  getenv("PAAS_RELEASE", "unknown"),
		Greeting: getenv("GREETING", "Hello"),
	})
}

func healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok"))
}

// statusRecorder remembers the status code so the access log can print it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// accessLog writes one line per request to stdout.
func accessLog(logger *log.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		logger.Printf("%s %q %d %s", r.RemoteAddr, r.Method+" "+r.URL.RequestURI(), rec.status, time.Since(start).Round(time.Microsecond))
	})
}

func main() {
	logger := log.New(os.Stdout, "", log.LstdFlags)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", index)
	mux.HandleFunc("GET /healthz", healthz)

	addr := net.JoinHostPort("0.0.0.0", getenv("PORT", "5000"))
	srv := &http.Server{Addr: addr, Handler: accessLog(logger, mux), ReadHeaderTimeout: 10 * time.Second}

	// Kubernetes sends SIGTERM on stop: finish in-flight requests, then exit.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	go func() {
		logger.Printf("go-http listening on %s", addr)
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Fatal(err)
		}
	}()

	<-ctx.Done()
	logger.Print("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Printf("shutdown: %v", err)
	}
}
