// Package deploy holds what runs collide outside `go run`: the image
// (Dockerfile, built by image.sh or `make image` as collide:local) and, in
// deploy/kubernetes, the example of a sharded run on Kubernetes. Its Go
// code is tests only: image_test.go builds the image when it is missing and
// runs collide and the coordinator in it.
package deploy
