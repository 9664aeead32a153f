// Prints, for each reference on stdin, what ParseNormalizedNamed + TagNameOnly make of it.
package main

import (
	_ "crypto/sha512"
	"bufio"
	"fmt"
	"os"

	"github.com/distribution/reference"
)

func main() {
	s := bufio.NewScanner(os.Stdin)
	for s.Scan() {
		in := s.Text()
		named, err := reference.ParseNormalizedNamed(in)
		if err != nil {
			fmt.Printf("%s\tERR\n", in)
			continue
		}
		tag, digest := "", ""
		if t, ok := named.(reference.Tagged); ok {
			tag = t.Tag()
		}
		if d, ok := named.(reference.Digested); ok {
			digest = d.Digest().String()
		}
		fmt.Printf("%s\tOK\t%s\t%s\t%s\t%s\n", in, reference.Domain(named), reference.Path(named), tag, digest)
	}
}
