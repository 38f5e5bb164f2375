package kubernetes

import (
	"bytes"
	"errors"
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

// load decodes every resource dir/kustomization.yaml lists.
func load(dir string) (kustomization, manifests, error) {
	var k kustomization
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return k, manifests{}, err
	}
	if err := strict(data, &k); err != nil {
		return k, manifests{}, fmt.Errorf("kustomization.yaml: %w", err)
	}
	m := manifests{jobs: map[string]*batchv1.Job{}, deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		configMaps: map[string]*corev1.ConfigMap{}, pvcs: map[string]*corev1.PersistentVolumeClaim{}, namespaces: map[string]*corev1.Namespace{}}
	for _, file := range k.Resources {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return k, m, fmt.Errorf("kustomization.yaml lists %s: %w", file, err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---\n")) {
			if err := m.add(doc); err != nil {
				return k, m, fmt.Errorf("%s, document %d: %w", file, i+1, err)
			}
		}
	}
	return k, m, nil
}

// loadT is load(dir) or the test's end.
func loadT(t *testing.T, dir string) (kustomization, manifests) {
	t.Helper()
	k, m, err := load(dir)
	if err != nil {
		t.Fatal(err)
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
	k, _ := loadT(t, ".")
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
func mountedFrom(spec corev1.PodSpec, c corev1.Container, file string) (corev1.Volume, error) {
	for _, vm := range c.VolumeMounts {
		if file == vm.MountPath || strings.HasPrefix(file, vm.MountPath+"/") {
			v, ok := volume(spec, vm.Name)
			if !ok {
				return v, fmt.Errorf("container %s mounts unknown volume %s", c.Name, vm.Name)
			}
			return v, nil
		}
	}
	return corev1.Volume{}, fmt.Errorf("container %s mounts nothing at %s", c.Name, file)
}

func TestManifestInvariants(t *testing.T) {
	_, m := loadT(t, ".")
	t.Setenv("COLLIDE_PG", "postgres://collide@127.0.0.1:5432/shop")
	if err := check(m); err != nil {
		t.Fatal(err)
	}
}

// TestInvariantsCatchDrift edits one manifest the way a careless change
// would and expects load or check to refuse it.
func TestInvariantsCatchDrift(t *testing.T) {
	t.Setenv("COLLIDE_PG", "postgres://collide@127.0.0.1:5432/shop")
	for _, tc := range []struct {
		name, file, old, new, want string
	}{
		{"unknown field", "shards-job.yaml", "  backoffLimit: 0", "  backoffLimit: 0\n  backofLimit: 1", "unknown field"},
		{"not Indexed", "shards-job.yaml", "completionMode: Indexed", "completionMode: NonIndexed", "want Indexed"},
		{"parallelism differs", "shards-job.yaml", "parallelism: 3", "parallelism: 2", "want equal"},
		{"env differs", "shards-job.yaml", `value: "3"`, `value: "4"`, "COLLIDE_SHARDS"},
		{"coordinator shards differ", "coordinator.yaml", "--shards=3", "--shards=4", "coordinator --shards"},
		{"service port differs", "coordinator.yaml", "      port: 7070", "      port: 8080", "Service ports"},
		{"listen port differs", "coordinator.yaml", "--listen=0.0.0.0:7070", "--listen=0.0.0.0:7071", "containerPort"},
		{"join URL differs", "shards-job.yaml", "--join=http://collide-coordinator:7070", "--join=http://coordinator:7070", "shard --join"},
		{"merge misses a shard", "merge-job.yaml", ", /results/shard-2]", "]", "merge args"},
		{"other image", "merge-job.yaml", "          image: collide:local\n          imagePullPolicy: IfNotPresent\n          # The merge", "          image: collide:latest\n          imagePullPolicy: IfNotPresent\n          # The merge", "image collide:latest"},
		{"merge not remote", "merge-job.yaml", "[merge, --allow-remote, ", "[merge, ", "--allow-remote"},
		{"profile invalid", "profile.yaml", "method: POST", "method: FETCH", "invalid method"},
		{"run not remote", "shards-job.yaml", "            - --allow-remote\n", "", "--allow-remote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files, err := filepath.Glob("*.yaml")
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if f == tc.file {
					if !bytes.Contains(data, []byte(tc.old)) {
						t.Fatalf("%s does not hold %q", f, tc.old)
					}
					data = bytes.Replace(data, []byte(tc.old), []byte(tc.new), 1)
				}
				if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, m, err := load(dir)
			if err == nil {
				err = check(m)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

// check returns the first disagreement among the manifests, or nil.
func check(m manifests) error {
	shards, ok := m.jobs["collide-shards"]
	if !ok {
		return errors.New("no Job collide-shards")
	}
	coord, ok := m.deployments["collide-coordinator"]
	if !ok {
		return errors.New("no Deployment collide-coordinator")
	}
	svc, ok := m.services["collide-coordinator"]
	if !ok {
		return errors.New("no Service collide-coordinator")
	}
	merge, ok := m.jobs["collide-merge"]
	if !ok {
		return errors.New("no Job collide-merge")
	}

	// The shard Job: Indexed, N pods at once, N = COLLIDE_SHARDS.
	js := shards.Spec
	if js.CompletionMode == nil || *js.CompletionMode != batchv1.IndexedCompletion {
		return fmt.Errorf("shard Job completionMode %v, want Indexed", js.CompletionMode)
	}
	if js.Completions == nil || js.Parallelism == nil || *js.Completions != *js.Parallelism || *js.Completions < 1 {
		return fmt.Errorf("shard Job completions %v, parallelism %v: want equal and ≥ 1", js.Completions, js.Parallelism)
	}
	n := int(*js.Completions)
	if len(js.Template.Spec.Containers) != 1 {
		return fmt.Errorf("shard pod has %d containers, want 1", len(js.Template.Spec.Containers))
	}
	shard := js.Template.Spec.Containers[0]
	if e, ok := env(shard, "COLLIDE_SHARDS"); !ok || e.Value != strconv.Itoa(n) {
		return fmt.Errorf("COLLIDE_SHARDS %+v, want %d", e, n)
	}
	if e, ok := env(shard, "JOB_COMPLETION_INDEX"); !ok || e.ValueFrom == nil || e.ValueFrom.FieldRef == nil ||
		e.ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		return fmt.Errorf("JOB_COMPLETION_INDEX %+v: want the completion index annotation", e)
	}
	if js.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		return fmt.Errorf("shard restartPolicy %q, want Never", js.Template.Spec.RestartPolicy)
	}
	if v, _ := flagValue(shard.Args, "shard"); v != "$(JOB_COMPLETION_INDEX)" {
		return fmt.Errorf("shard --shard %q, want $(JOB_COMPLETION_INDEX)", v)
	}
	dash := slices.Index(shard.Args, "--")
	if len(shard.Args) == 0 || shard.Args[0] != "coordinate" || dash < 0 || len(shard.Args) < dash+3 || shard.Args[dash+1] != "run" || !slices.Contains(shard.Args[dash+2:], "--allow-remote") {
		return fmt.Errorf("shard args %q: want coordinate --join … -- run PROFILE --allow-remote", shard.Args)
	}

	// The profile: from the ConfigMap, and a valid profile.
	profilePath := shard.Args[dash+2]
	pv, err := mountedFrom(js.Template.Spec, shard, profilePath)
	if err != nil {
		return err
	}
	if pv.ConfigMap == nil {
		return fmt.Errorf("profile %s is not mounted from a ConfigMap", profilePath)
	}
	cm, ok := m.configMaps[pv.ConfigMap.Name]
	if !ok {
		return fmt.Errorf("ConfigMap %s is not in the manifests", pv.ConfigMap.Name)
	}
	text, ok := cm.Data[filepath.Base(profilePath)]
	if !ok {
		return fmt.Errorf("ConfigMap %s has no key %s", cm.Name, filepath.Base(profilePath))
	}
	if _, err := profiles.Parse("profile.yaml", []byte(text), nil); err != nil {
		return fmt.Errorf("the ConfigMap's profile: %w", err)
	}

	// The coordinator: --shards N, its port everywhere the same.
	if len(coord.Spec.Template.Spec.Containers) != 1 {
		return errors.New("coordinator pod: want one container")
	}
	cc := coord.Spec.Template.Spec.Containers[0]
	if v, _ := flagValue(cc.Args, "shards"); v != strconv.Itoa(n) {
		return fmt.Errorf("coordinator --shards %q, shard Job completions %d", v, n)
	}
	listen, _ := flagValue(cc.Args, "listen")
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("coordinator --listen %q: %w", listen, err)
	}
	if len(cc.Args) == 0 || cc.Args[0] != "coordinate" || !slices.Contains(cc.Args, "--allow-remote") {
		return fmt.Errorf("coordinator args %q: want coordinate … --allow-remote (it listens beyond loopback)", cc.Args)
	}
	if len(cc.Ports) != 1 || strconv.Itoa(int(cc.Ports[0].ContainerPort)) != port {
		return fmt.Errorf("coordinator containerPort %v, --listen port %s", cc.Ports, port)
	}
	if len(svc.Spec.Ports) != 1 || strconv.Itoa(int(svc.Spec.Ports[0].Port)) != port || svc.Spec.Ports[0].TargetPort.String() != port {
		return fmt.Errorf("Service ports %+v, --listen port %s", svc.Spec.Ports, port)
	}
	for k, v := range svc.Spec.Selector {
		if coord.Spec.Template.Labels[k] != v || coord.Spec.Selector.MatchLabels[k] != v {
			return fmt.Errorf("Service selector %s=%s does not select the coordinator pod", k, v)
		}
	}
	ms := merge.Spec.Template.Spec
	if len(ms.InitContainers) != 1 || len(ms.Containers) != 1 {
		return errors.New("merge pod: want one init container (wait) and one container (merge)")
	}
	wantURL := "http://" + svc.Name + ":" + port
	for _, c := range []struct {
		what, flag string
		args       []string
	}{
		{"shard", "join", shard.Args},
		{"merge wait", "wait", ms.InitContainers[0].Args},
	} {
		v, _ := flagValue(c.args, c.flag)
		u, err := url.Parse(v)
		if err != nil || "http://"+u.Host != wantURL {
			return fmt.Errorf("%s --%s %q, want %s", c.what, c.flag, v, wantURL)
		}
	}

	// The results: the coordinator and the merge share one claim, and the
	// merge reads shard-0 … shard-(N−1) of it.
	results, _ := flagValue(cc.Args, "results")
	rv, err := mountedFrom(coord.Spec.Template.Spec, cc, results)
	if err != nil {
		return err
	}
	if rv.PersistentVolumeClaim == nil {
		return fmt.Errorf("coordinator --results %s is not on a PersistentVolumeClaim", results)
	}
	if _, ok := m.pvcs[rv.PersistentVolumeClaim.ClaimName]; !ok {
		return fmt.Errorf("claim %s is not in the manifests", rv.PersistentVolumeClaim.ClaimName)
	}
	mc := ms.Containers[0]
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("%s/shard-%d", results, i))
	}
	// merge [flags] shard-0 … shard-N−1: the shard folders are the last N
	// arguments; the database is in the cluster, so --allow-remote.
	if len(mc.Args) < n+1 || mc.Args[0] != "merge" || !slices.Equal(mc.Args[len(mc.Args)-n:], want) {
		return fmt.Errorf("merge args %q, want merge [flags] %q", mc.Args, want)
	}
	if !slices.Contains(mc.Args, "--allow-remote") {
		return fmt.Errorf("merge args %q: the merge checks an in-cluster database: want --allow-remote", mc.Args)
	}
	mv, err := mountedFrom(ms, mc, results)
	if err != nil {
		return err
	}
	if mv.PersistentVolumeClaim == nil || mv.PersistentVolumeClaim.ClaimName != rv.PersistentVolumeClaim.ClaimName {
		return fmt.Errorf("merge reads %s from %+v, coordinator writes it to claim %s", results, mv, rv.PersistentVolumeClaim.ClaimName)
	}

	// One image everywhere, and Jobs that do not re-run a shard late.
	var all []corev1.Container
	for _, spec := range []corev1.PodSpec{js.Template.Spec, coord.Spec.Template.Spec, ms} {
		all = append(append(all, spec.InitContainers...), spec.Containers...)
	}
	for _, c := range all {
		if c.Image != image || c.ImagePullPolicy != corev1.PullIfNotPresent {
			return fmt.Errorf("container %s: image %s pull %s, want %s IfNotPresent (make image; kind load docker-image %s)", c.Name, c.Image, c.ImagePullPolicy, image, image)
		}
	}
	for _, j := range []*batchv1.Job{shards, merge} {
		if j.Spec.BackoffLimit == nil || *j.Spec.BackoffLimit != 0 {
			return fmt.Errorf("Job %s backoffLimit %v, want 0", j.Name, j.Spec.BackoffLimit)
		}
	}
	return nil
}
