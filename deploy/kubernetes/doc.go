// Package kubernetes is the Kubernetes example of a sharded collide run:
// the manifests in this folder (kubectl apply -k deploy/kubernetes) and a
// test that decodes each of them strictly with the Kubernetes API types and
// checks what must agree across them: an Indexed Job whose parallelism,
// completions and COLLIDE_SHARDS equal the coordinator's --shards and the
// merge's shard folders, one image, the coordinator's port in its --listen,
// container port, Service and every URL that names it. Its Go code is that
// test only, so the k8s.io modules never reach the collide binary.
package kubernetes
