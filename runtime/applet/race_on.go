//go:build race

package applet

const raceEnabled = true
