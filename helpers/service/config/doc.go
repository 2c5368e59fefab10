// Package config reads the YAML configuration of `cpulse serve`.
//
// Load applies the defaults in one place (Default), refuses what it does not
// know, and reports every problem as one line "FILE:LINE: what (the fix)":
//
//	serve.yaml:7: intervals.functional: "30x" is not a duration (write it like 30m, 2h; 0 or -1 disables)
//
// The file is walked as a yaml.Node tree rather than decoded into structs:
// Node.Decode drops the decoder's KnownFields setting, and the walk gives every
// key and value its own line and a fix that names the setting. Relative paths
// in the file are relative to the file's directory. Example returns a
// commented configuration that Load accepts.
package config
