// segnode: a dqlite node whose SQLite connections all have libsegment.
//
//	segnode -dir DIR -address 127.0.0.1:9001 [-join ADDR,...] [-lib PATH]
//	        [-no-extension] [-latency DURATION]
//
// The extension is registered before the node starts: the library is
// opened with dlopen(), sqlite3_segment_init is looked up and handed to
// sqlite3_auto_extension(), so every connection the node opens (the
// leader's and the followers') has libsegment's functions and virtual
// tables.  The first node of a cluster starts without -join; the others
// join it.  SIGTERM or SIGINT hands leadership (and the voter role) over
// to another node before the node stops.
package main

/*
#cgo LDFLAGS: -lsqlite3 -ldl
#include <stdlib.h>
#include <dlfcn.h>
#include <sqlite3.h>

typedef int (*seg_init_fn)(sqlite3 *, char **, const sqlite3_api_routines *);

// Registers sqlite3_segment_init of the library at path for every new
// connection.  Returns NULL, or a message (static or from dlerror()).
static const char *seg_register(const char *path) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) return dlerror();
	void *f = dlsym(h, "sqlite3_segment_init");
	if (f == NULL) return "the library has no sqlite3_segment_init";
	if (sqlite3_auto_extension((void (*)(void))f) != SQLITE_OK)
		return "sqlite3_auto_extension() failed";
	return NULL;
}
*/
import "C"

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/canonical/go-dqlite/app"
	"github.com/canonical/go-dqlite/client"
)

func main() {
	dir := flag.String("dir", "", "data directory of the node (created if missing)")
	address := flag.String("address", "127.0.0.1:9001", "address the node listens on")
	join := flag.String("join", "", "comma-separated addresses of nodes of the cluster to join")
	lib := flag.String("lib", "libsegment.so", "path of libsegment's shared library")
	noExt := flag.Bool("no-extension", false, "start without libsegment (to see what clients then get)")
	latency := flag.Duration("latency", 0, "average one-way network latency (raft timeouts scale with it; 0: dqlite's default)")
	verbose := flag.Bool("v", false, "log dqlite's debug messages")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "segnode: -dir is required")
		os.Exit(2)
	}
	if !*noExt {
		cpath := C.CString(*lib)
		msg := C.seg_register(cpath)
		C.free(unsafe.Pointer(cpath))
		if msg != nil {
			fmt.Fprintf(os.Stderr, "segnode: cannot load %s: %s\n", *lib, C.GoString(msg))
			os.Exit(1)
		}
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "segnode: %v\n", err)
		os.Exit(1)
	}

	options := []app.Option{app.WithAddress(*address), app.WithLogFunc(logFunc(*verbose))}
	if *join != "" {
		options = append(options, app.WithCluster(strings.Split(*join, ",")))
	}
	if *latency > 0 {
		options = append(options, app.WithNetworkLatency(*latency))
	}
	node, err := app.New(*dir, options...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "segnode: %v\n", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err = node.Ready(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "segnode: not ready: %v\n", err)
		node.Close()
		os.Exit(1)
	}
	ext := "with libsegment"
	if *noExt {
		ext = "without libsegment"
	}
	fmt.Fprintf(os.Stderr, "segnode: node %d ready on %s (%s)\n", node.ID(), node.Address(), ext)

	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Second)
	if err := node.Handover(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "segnode: handover: %v\n", err)
	}
	cancel()
	if err := node.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "segnode: close: %v\n", err)
		os.Exit(1)
	}
}

func logFunc(verbose bool) client.LogFunc {
	return func(l client.LogLevel, format string, a ...interface{}) {
		if l < client.LogWarn && !verbose {
			return
		}
		fmt.Fprintf(os.Stderr, "segnode: %s: %s\n", l.String(), fmt.Sprintf(format, a...))
	}
}
