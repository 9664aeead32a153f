// Reference verdicts for the flow-layout variants: reads a JSON array of {"name", "yaml"} on
// stdin, decodes each YAML text with go-yaml v2 (what sigs.k8s.io/yaml, kubectl and the API
// server use) into interface{}, every document of the stream in turn as kubectl reads them,
// and writes a JSON array of {"name", "ok", "value" (the documents)|"error"}, map keys
// turned into strings as sigs.k8s.io/yaml does. Build outside any module:
//   GOPATH=/usr/share/gocode GO111MODULE=off go build -o /tmp/gocheck gocheck.go
// (Debian: golang-go golang-gopkg-yaml.v2-dev). Used by generate.py.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	yaml "gopkg.in/yaml.v2"
)

type input struct {
	Name string `json:"name"`
	YAML string `json:"yaml"`
}

type verdict struct {
	Name  string      `json:"name"`
	OK    bool        `json:"ok"`
	Value interface{} `json:"value,omitempty"`
	Error string      `json:"error,omitempty"`
}

func jsonable(v interface{}) interface{} {
	switch t := v.(type) {
	case map[interface{}]interface{}:
		m := map[string]interface{}{}
		for k, x := range t {
			m[fmt.Sprint(k)] = jsonable(x)
		}
		return m
	case []interface{}:
		for i := range t {
			t[i] = jsonable(t[i])
		}
		return t
	}
	return v
}

func main() {
	var in []input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := make([]verdict, 0, len(in))
	for _, c := range in {
		dec := yaml.NewDecoder(bytes.NewReader([]byte(c.YAML)))
		docs := []interface{}{}
		var failed error
		for {
			var v interface{}
			err := dec.Decode(&v)
			if err == io.EOF {
				break
			}
			if err != nil {
				failed = err
				break
			}
			docs = append(docs, jsonable(v))
		}
		if failed != nil {
			out = append(out, verdict{Name: c.Name, Error: failed.Error()})
			continue
		}
		out = append(out, verdict{Name: c.Name, OK: true, Value: docs})
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
