package main

import (
	"fmt"

	"example.com/dep"
	"k8s.io/component-base/version"
)

func main() {
	fmt.Println(version.Get(), dep.Name())
}
