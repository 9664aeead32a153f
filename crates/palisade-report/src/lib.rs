//! Printers for scan results: a terminal table, the JSON contract, SARIF 2.1.0 and JUnit XML.
