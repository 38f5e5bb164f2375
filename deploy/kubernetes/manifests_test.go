package kubernetes

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/collide-dev/collide/profiles"
)

// image is the tag every container runs: what `make image` builds.
const image = "collide:local"

// manifests holds every object of the example, by kind and name.
type manifests struct {
	jobs        map[string]*batchv1.Job
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	configMaps  map[string]*corev1.ConfigMap
	pvcs        map[string]*corev1.PersistentVolumeClaim
	namespaces  map[string]*corev1.Namespace
}

// kustomization is the part of kustomization.yaml the example uses; any
// other field fails the strict decoding.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
}

// strict decodes one YAML document into v, refusing unknown fields.
func strict(doc []byte, v any) error {
	return yaml.UnmarshalStrict(doc, v)
}

// load decodes every resource kustomization.yaml lists.
func load(t *testing.T) (kustomization, manifests) {
	t.Helper()
	var k kustomization
	data, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := strict(data, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	m := manifests{jobs: map[string]*batchv1.Job{}, deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		configMaps: map[string]*corev1.ConfigMap{}, pvcs: map[string]*corev1.PersistentVolumeClaim{}, namespaces: map[string]*corev1.Namespace{}}
	for _, file := range k.Resources {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("kustomization.yaml lists %s: %v", file, err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---\n")) {
			if err := m.add(doc); err != nil {
				t.Fatalf("%s, document %d: %v", file, i+1, err)
			}
		}
	}
	return k, m
}

// add decodes one document by its apiVersion and kind.
func (m *manifests) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	var obj interface{ GetName() string }
	var put func()
	switch tm.APIVersion + " " + tm.Kind {
	case "batch/v1 Job":
		o := &batchv1.Job{}
		obj, put = o, func() { m.jobs[o.Name] = o }
	case "apps/v1 Deployment":
		o := &appsv1.Deployment{}
		obj, put = o, func() { m.deployments[o.Name] = o }
	case "v1 Service":
		o := &corev1.Service{}
		obj, put = o, func() { m.services[o.Name] = o }
	case "v1 ConfigMap":
		o := &corev1.ConfigMap{}
		obj, put = o, func() { m.configMaps[o.Name] = o }
	case "v1 PersistentVolumeClaim":
		o := &corev1.PersistentVolumeClaim{}
		obj, put = o, func() { m.pvcs[o.Name] = o }
	case "v1 Namespace":
		o := &corev1.Namespace{}
		obj, put = o, func() { m.namespaces[o.Name] = o }
	default:
		return fmt.Errorf("unexpected %s %s", tm.APIVersion, tm.Kind)
	}
	if err := strict(doc, obj); err != nil {
		return fmt.Errorf("%s: %w", tm.Kind, err)
	}
	if obj.GetName() == "" {
		return fmt.Errorf("%s without a name", tm.Kind)
	}
	put()
	return nil
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	k, _ := load(t)
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return f == "kustomization.yaml" })
	slices.Sort(files)
	listed := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(files, listed) {
		t.Fatalf("kustomization.yaml resources %v, folder holds %v", listed, files)
	}
	if k.Kind != "Kustomization" || k.Namespace != "collide" {
		t.Fatalf("kustomization %+v", k)
	}
}

// flagValue returns the value of --name=v or --name v in args, and whether
// it is there; only args before "--" count.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

func env(c corev1.Container, name string) (corev1.EnvVar, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e, true
		}
	}
	return corev1.EnvVar{}, false
}

func volume(spec corev1.PodSpec, name string) (corev1.Volume, bool) {
	for _, v := range spec.Volumes {
		if v.Name == name {
			return v, true
		}
	}
	return corev1.Volume{}, false
}

// mountedFrom returns the volume mounted at a path that holds file.
func mountedFrom(t *testing.T, spec corev1.PodSpec, c corev1.Container, file string) corev1.Volume {
	t.Helper()
	for _, vm := range c.VolumeMounts {
		if file == vm.MountPath || strings.HasPrefix(file, vm.MountPath+"/") {
			v, ok := volume(spec, vm.Name)
			if !ok {
				t.Fatalf("container %s mounts unknown volume %s", c.Name, vm.Name)
			}
			return v
		}
	}
	t.Fatalf("container %s mounts nothing at %s", c.Name, file)
	return corev1.Volume{}
}

func TestManifestInvariants(t *testing.T) {
	_, m := load(t)
	shards, ok := m.jobs["collide-shards"]
	if !ok {
		t.Fatal("no Job collide-shards")
	}
	coord, ok := m.deployments["collide-coordinator"]
	if !ok {
		t.Fatal("no Deployment collide-coordinator")
	}
	svc, ok := m.services["collide-coordinator"]
	if !ok {
		t.Fatal("no Service collide-coordinator")
	}
	merge, ok := m.jobs["collide-merge"]
	if !ok {
		t.Fatal("no Job collide-merge")
	}

	// The shard Job: Indexed, N pods at once, N = COLLIDE_SHARDS.
	js := shards.Spec
	if js.CompletionMode == nil || *js.CompletionMode != batchv1.IndexedCompletion {
		t.Fatalf("shard Job completionMode %v, want Indexed", js.CompletionMode)
	}
	if js.Completions == nil || js.Parallelism == nil || *js.Completions != *js.Parallelism || *js.Completions < 1 {
		t.Fatalf("shard Job completions %v, parallelism %v: want equal and ≥ 1", js.Completions, js.Parallelism)
	}
	n := int(*js.Completions)
	if len(js.Template.Spec.Containers) != 1 {
		t.Fatalf("shard pod has %d containers, want 1", len(js.Template.Spec.Containers))
	}
	shard := js.Template.Spec.Containers[0]
	if e, ok := env(shard, "COLLIDE_SHARDS"); !ok || e.Value != strconv.Itoa(n) {
		t.Fatalf("COLLIDE_SHARDS %+v, want %d", e, n)
	}
	if e, ok := env(shard, "JOB_COMPLETION_INDEX"); !ok || e.ValueFrom == nil || e.ValueFrom.FieldRef == nil ||
		e.ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Fatalf("JOB_COMPLETION_INDEX %+v: want the completion index annotation", e)
	}
	if js.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Fatalf("shard restartPolicy %q, want Never", js.Template.Spec.RestartPolicy)
	}
	if v, _ := flagValue(shard.Args, "shard"); v != "$(JOB_COMPLETION_INDEX)" {
		t.Fatalf("shard --shard %q, want $(JOB_COMPLETION_INDEX)", v)
	}
	dash := slices.Index(shard.Args, "--")
	if shard.Args[0] != "coordinate" || dash < 0 || len(shard.Args) < dash+3 || shard.Args[dash+1] != "run" || !slices.Contains(shard.Args[dash+2:], "--allow-remote") {
		t.Fatalf("shard args %q: want coordinate --join … -- run PROFILE --allow-remote", shard.Args)
	}

	// The profile: from the ConfigMap, and a valid profile.
	profilePath := shard.Args[dash+2]
	pv := mountedFrom(t, js.Template.Spec, shard, profilePath)
	if pv.ConfigMap == nil {
		t.Fatalf("profile %s is not mounted from a ConfigMap", profilePath)
	}
	cm, ok := m.configMaps[pv.ConfigMap.Name]
	if !ok {
		t.Fatalf("ConfigMap %s is not in the manifests", pv.ConfigMap.Name)
	}
	text, ok := cm.Data[filepath.Base(profilePath)]
	if !ok {
		t.Fatalf("ConfigMap %s has no key %s", cm.Name, filepath.Base(profilePath))
	}
	t.Setenv("COLLIDE_PG", "postgres://collide@127.0.0.1:5432/shop")
	if _, err := profiles.Parse("profile.yaml", []byte(text), nil); err != nil {
		t.Fatalf("the ConfigMap's profile: %v", err)
	}

	// The coordinator: --shards N, its port everywhere the same.
	if len(coord.Spec.Template.Spec.Containers) != 1 {
		t.Fatal("coordinator pod: want one container")
	}
	cc := coord.Spec.Template.Spec.Containers[0]
	if v, _ := flagValue(cc.Args, "shards"); v != strconv.Itoa(n) {
		t.Fatalf("coordinator --shards %q, shard Job completions %d", v, n)
	}
	listen, _ := flagValue(cc.Args, "listen")
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		t.Fatalf("coordinator --listen %q: %v", listen, err)
	}
	if cc.Args[0] != "coordinate" || !slices.Contains(cc.Args, "--allow-remote") {
		t.Fatalf("coordinator args %q: want coordinate … --allow-remote (it listens beyond loopback)", cc.Args)
	}
	if len(cc.Ports) != 1 || strconv.Itoa(int(cc.Ports[0].ContainerPort)) != port {
		t.Fatalf("coordinator containerPort %v, --listen port %s", cc.Ports, port)
	}
	if len(svc.Spec.Ports) != 1 || strconv.Itoa(int(svc.Spec.Ports[0].Port)) != port || svc.Spec.Ports[0].TargetPort.String() != port {
		t.Fatalf("Service ports %+v, --listen port %s", svc.Spec.Ports, port)
	}
	for k, v := range svc.Spec.Selector {
		if coord.Spec.Template.Labels[k] != v || coord.Spec.Selector.MatchLabels[k] != v {
			t.Fatalf("Service selector %s=%s does not select the coordinator pod", k, v)
		}
	}
	wantURL := "http://" + svc.Name + ":" + port
	for _, c := range []struct {
		what, flag string
		args       []string
	}{
		{"shard", "join", shard.Args},
		{"merge wait", "wait", merge.Spec.Template.Spec.InitContainers[0].Args},
	} {
		v, _ := flagValue(c.args, c.flag)
		u, err := url.Parse(v)
		if err != nil || "http://"+u.Host != wantURL {
			t.Fatalf("%s --%s %q, want %s", c.what, c.flag, v, wantURL)
		}
	}

	// The results: the coordinator and the merge share one claim, and the
	// merge reads shard-0 … shard-(N−1) of it.
	results, _ := flagValue(cc.Args, "results")
	rv := mountedFrom(t, coord.Spec.Template.Spec, cc, results)
	if rv.PersistentVolumeClaim == nil {
		t.Fatalf("coordinator --results %s is not on a PersistentVolumeClaim", results)
	}
	if _, ok := m.pvcs[rv.PersistentVolumeClaim.ClaimName]; !ok {
		t.Fatalf("claim %s is not in the manifests", rv.PersistentVolumeClaim.ClaimName)
	}
	ms := merge.Spec.Template.Spec
	if len(ms.InitContainers) != 1 || len(ms.Containers) != 1 {
		t.Fatal("merge pod: want one init container (wait) and one container (merge)")
	}
	mc := ms.Containers[0]
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("%s/shard-%d", results, i))
	}
	if mc.Args[0] != "merge" || !slices.Equal(mc.Args[1:], want) {
		t.Fatalf("merge args %q, want merge %q", mc.Args, want)
	}
	mv := mountedFrom(t, ms, mc, results)
	if mv.PersistentVolumeClaim == nil || mv.PersistentVolumeClaim.ClaimName != rv.PersistentVolumeClaim.ClaimName {
		t.Fatalf("merge reads %s from %+v, coordinator writes it to claim %s", results, mv, rv.PersistentVolumeClaim.ClaimName)
	}

	// One image everywhere, and Jobs that do not re-run a shard late.
	var all []corev1.Container
	for _, spec := range []corev1.PodSpec{js.Template.Spec, coord.Spec.Template.Spec, ms} {
		all = append(append(all, spec.InitContainers...), spec.Containers...)
	}
	for _, c := range all {
		if c.Image != image || c.ImagePullPolicy != corev1.PullIfNotPresent {
			t.Fatalf("container %s: image %s pull %s, want %s IfNotPresent (make image; kind load docker-image %s)", c.Name, c.Image, c.ImagePullPolicy, image, image)
		}
	}
	for _, j := range []*batchv1.Job{shards, merge} {
		if j.Spec.BackoffLimit == nil || *j.Spec.BackoffLimit != 0 {
			t.Fatalf("Job %s backoffLimit %v, want 0", j.Name, j.Spec.BackoffLimit)
		}
	}
}
