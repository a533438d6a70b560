// Command rawgo is the ceiling of the side-by-side benchmark: a plain Go
// net/http server doing natively what bench/scripts do in JavaScript and
// answering the same bytes (bench/run checks that before measuring).
//
// Usage: rawgo <port>
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"sort"
	"strings"
)

type item struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Price int    `json:"price"`
	Qty   int    `json:"qty"`
	Tag   string `json:"tag"`
}

type outItem struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Total int    `json:"total"`
	Tag   int    `json:"tag"`
}

func hello(w http.ResponseWriter, r *http.Request) {
	b, err := json.Marshal(struct {
		Hello string `json:"hello"`
		Path  string `json:"path"`
	}{"world", r.URL.Path})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func jsonItems(w http.ResponseWriter, r *http.Request) {
	var doc struct {
		Items []item `json:"items"`
	}
	if err := json.NewDecoder(r.Body).Decode(&doc); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out := make([]outItem, 0, len(doc.Items))
	sum := 0
	for _, it := range doc.Items {
		o := outItem{ID: it.ID, Name: strings.ToUpper(it.Name), Total: it.Price * it.Qty, Tag: len(it.Tag)}
		if o.Total >= 500 {
			out = append(out, o)
			sum += o.Total
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].ID < out[j].ID
	})
	b, err := json.Marshal(struct {
		Count int       `json:"count"`
		Sum   int       `json:"sum"`
		Items []outItem `json:"items"`
	}{len(out), sum, out})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: rawgo <port>")
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", hello)
	mux.HandleFunc("POST /json", jsonItems)
	log.Fatal(http.ListenAndServe("127.0.0.1:"+os.Args[1], mux))
}
