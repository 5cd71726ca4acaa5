// paas-static-server serves a static site on $PORT.
//
// At start it reads every .html file under the site root once and replaces
// ${NAME} placeholders with the value of the environment variable NAME
// (HTML-escaped). PAAS_RELEASE defaults to "unknown" and GREETING to "Hello";
// a placeholder whose variable is unset and has no default is left as is.
// Other files are served byte for byte. The root is `root` in static.json,
// else public/ when it holds index.html, else the app directory. It logs one
// line per request to stdout and stops cleanly (exit 0) on SIGTERM or SIGINT.
//
// The substituted pages are kept in memory, so the server runs on a
// read-only root filesystem.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log"
	"mime"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

var defaults = map[string]string{"PAAS_RELEASE": "unknown", "GREETING": "Hello"}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

type staticConfig struct {
	Root      string                       `json:"root"`
	CleanURLs bool                         `json:"clean_urls"`
	Headers   map[string]map[string]string `json:"headers"`
}

func lookup(name string) (string, bool) {
	if v, ok := os.LookupEnv(name); ok {
		return v, true
	}
	v, ok := defaults[name]
	return v, ok
}

func substitute(page []byte) []byte {
	return placeholder.ReplaceAllFunc(page, func(m []byte) []byte {
		name := string(m[2 : len(m)-1])
		if v, ok := lookup(name); ok {
			return []byte(html.EscapeString(v))
		}
		return m
	})
}

func siteRoot(appDir string) (string, staticConfig, error) {
	var cfg staticConfig
	data, err := os.ReadFile(filepath.Join(appDir, "static.json"))
	if err == nil {
		if err := json.Unmarshal(data, &cfg); err != nil {
			return "", cfg, fmt.Errorf("static.json: %w", err)
		}
	}
	root := cfg.Root
	if root == "" {
		if _, err := os.Stat(filepath.Join(appDir, "public", "index.html")); err == nil {
			root = "public"
		} else {
			root = "."
		}
	}
	return filepath.Join(appDir, root), cfg, nil
}

func loadPages(root string) (map[string][]byte, error) {
	pages := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".html") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		pages["/"+filepath.ToSlash(rel)] = substitute(data)
		return nil
	})
	return pages, err
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func handler(root string, cfg staticConfig, pages map[string][]byte) http.Handler {
	files := http.FileServer(http.Dir(root))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, status: 200}
		p := path.Clean("/" + r.URL.Path)
		for _, candidate := range []string{p, strings.TrimSuffix(p, "/") + "/index.html", p + ".html"} {
			if candidate == p+".html" && !cfg.CleanURLs {
				continue
			}
			if page, ok := pages[candidate]; ok {
				rec.Header().Set("Content-Type", mime.TypeByExtension(".html"))
				http.ServeContent(rec, r, candidate, time.Time{}, bytes.NewReader(page))
				logRequest(r, rec, start)
				return
			}
		}
		if strings.HasSuffix(p, "/healthz") || path.Ext(p) == "" {
			// Extension-less files (healthz) are text, not octet-stream.
			rec.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		files.ServeHTTP(rec, r)
		logRequest(r, rec, start)
	})
}

func logRequest(r *http.Request, rec *recorder, start time.Time) {
	fmt.Printf("%s %s %d %dB %s %q\n", r.Method, r.URL.RequestURI(), rec.status, rec.bytes,
		time.Since(start).Round(time.Microsecond), r.UserAgent())
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("paas-static-server: ")
	appDir, _ := os.Getwd()
	if len(os.Args) > 1 {
		appDir = os.Args[1]
	}
	root, cfg, err := siteRoot(appDir)
	if err != nil {
		log.Fatal(err)
	}
	pages, err := loadPages(root)
	if err != nil {
		log.Fatalf("reading the site in %s: %v", root, err)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "5000"
	}
	srv := &http.Server{
		Addr:              ":" + port,
		Handler:           handler(root, cfg, pages),
		ReadHeaderTimeout: 10 * time.Second,
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe() }()
	log.Printf("serving %s on :%s (%d pages)", root, port, len(pages))
	select {
	case err := <-done:
		log.Fatal(err)
	case sig := <-stop:
		log.Printf("%s: finishing requests in flight", sig)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}
}
