// Reference verdicts for the flow-layout variants: reads a JSON array of {"name", "yaml"} on
// stdin, decodes each YAML text with go-yaml v2 (what sigs.k8s.io/yaml, kubectl and the API
// server use) into interface{}, and writes a JSON array of {"name", "ok", "value"|"error"},
// map keys turned into strings as sigs.k8s.io/yaml does. Build outside any module:
//   GOPATH=/usr/share/gocode GO111MODULE=off go build -o /tmp/gocheck gocheck.go
// (Debian: golang-go golang-gopkg-yaml.v2-dev). Used by generate.py.
package main

import (
	"encoding/json"
	"fmt"
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
		var v interface{}
		if err := yaml.Unmarshal([]byte(c.YAML), &v); err != nil {
			out = append(out, verdict{Name: c.Name, Error: err.Error()})
			continue
		}
		out = append(out, verdict{Name: c.Name, OK: true, Value: jsonable(v)})
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
