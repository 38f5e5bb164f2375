package stacks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
	tctoxiproxy "github.com/testcontainers/testcontainers-go/modules/toxiproxy"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Network aliases of the containers on a run's private network.
const (
	DatabaseAlias  = "database"
	ToxiproxyAlias = "toxiproxy"
	ServiceAlias   = "service"
)

// Labels on everything a Docker stack creates, e.g. for
// `docker ps -a --filter label=dev.collide.run`.
const (
	LabelRun  = "dev.collide.run"
	LabelRole = "dev.collide.role"
	LabelHost = "dev.collide.host" // the host name of the collide process
	LabelPID  = "dev.collide.pid"  // and its pid, for SweepOrphans
)

// Toxiproxy's ports in its container: the API, and the fixed listen ports of
// the two links (collide's chaos package creates the proxies there, see
// chaos.AddLinkAt).
const (
	ToxiproxyAPIPort      = 8474
	ToxiproxyTargetPort   = 8666
	ToxiproxyDatabasePort = 8667
)

// cleanupTimeout bounds Docker.Close, whatever the run's context.
const cleanupTimeout = 90 * time.Second

// Docker is one run's containers on one private Docker network, created with
// testcontainers-go. Every published port is bound to 127.0.0.1 only. Close
// saves each container's log in the run folder, then removes the containers
// (newest first) and the network. It needs a local Docker engine.
type Docker struct {
	runID  string
	host   string
	logDir string
	logger tclog.Logger
	nw     *testcontainers.DockerNetwork

	mu      sync.Mutex
	ctrs    []started
	closed  bool
	closeMu sync.Mutex
}

type started struct {
	role string
	c    testcontainers.Container
}

// NewDocker removes what dead collide runs left behind (SweepOrphans) and
// creates the run's private network. logDir (the run folder) receives
// docker.log (testcontainers' messages, including those it writes to its
// process-wide logger, which would otherwise land on collide's stderr) and,
// on Close, one <role>.log per container.
func NewDocker(ctx context.Context, runID, logDir string) (*Docker, error) {
	d := &Docker{runID: runID, logDir: logDir, logger: tclog.NewNoopLogger()}
	d.host, _ = os.Hostname()
	if logDir != "" {
		f, err := os.OpenFile(filepath.Join(logDir, "docker.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("docker log: %w", err)
		}
		d.logger = &fileLogger{f: f}
	}
	routeGlobalLog(d.logger)
	if n, err := SweepOrphans(ctx); err != nil {
		d.logger.Printf("sweep orphans: %v", err)
	} else if n > 0 {
		d.logger.Printf("removed %d container(s), network(s) or image(s) left by collide runs that died", n)
	}
	nw, err := network.New(ctx, network.WithLabels(d.labels("network")))
	if err != nil {
		d.closeLogger()
		if strings.Contains(err.Error(), "reaper") {
			return nil, fmt.Errorf("docker: testcontainers' reaper (Ryuk) did not start; collide removes its containers itself, so set TESTCONTAINERS_RYUK_DISABLED=true: %w", err)
		}
		return nil, fmt.Errorf("docker: create network (is a Docker engine running?): %w", err)
	}
	d.nw = nw
	return d, nil
}

// NetworkName is the private network's name.
func (d *Docker) NetworkName() string { return d.nw.Name }

func (d *Docker) labels(role string) map[string]string {
	return map[string]string{LabelRun: d.runID, LabelRole: role, LabelHost: d.host, LabelPID: strconv.Itoa(os.Getpid())}
}

// SweepOrphans removes what earlier runs on this host left behind because
// their collide process died before it could clean up (SIGKILL, a crash in
// another goroutine, a power cut): the containers, networks and built
// images labelled with this host's name and the pid of a process that no
// longer exists. It returns how many it removed. Runs whose process is
// alive, and runs from other hosts sharing the engine, are left alone.
func SweepOrphans(ctx context.Context) (int, error) {
	host, err := os.Hostname()
	if err != nil {
		return 0, err
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	filters := client.Filters{}.Add("label", LabelHost+"="+host)
	orphan := func(labels map[string]string) bool {
		pid, err := strconv.Atoi(labels[LabelPID])
		return err == nil && pid > 0 && pid != os.Getpid() && !processExists(pid)
	}
	var n int
	var errs []error
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filters})
	if err != nil {
		return 0, err
	}
	for _, c := range ctrs.Items {
		if orphan(c.Labels) {
			if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
				errs = append(errs, err)
			} else {
				n++
			}
		}
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filters})
	if err != nil {
		return n, errors.Join(append(errs, err)...)
	}
	for _, nw := range nets.Items {
		if orphan(nw.Labels) {
			if _, err := cli.NetworkRemove(ctx, nw.ID, client.NetworkRemoveOptions{}); err != nil {
				errs = append(errs, err)
			} else {
				n++
			}
		}
	}
	imgs, err := cli.ImageList(ctx, client.ImageListOptions{Filters: filters})
	if err != nil {
		return n, errors.Join(append(errs, err)...)
	}
	for _, img := range imgs.Items {
		if orphan(img.Labels) {
			if _, err := cli.ImageRemove(ctx, img.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true}); err != nil {
				errs = append(errs, err)
			} else {
				n++
			}
		}
	}
	return n, errors.Join(errs...)
}

// common are the options of every container: labels, name, the network
// with its alias, ports published on 127.0.0.1, and the logger.
func (d *Docker) common(role, alias string, ports ...int) []testcontainers.ContainerCustomizer {
	exposed := make([]string, len(ports))
	for i, p := range ports {
		exposed[i] = strconv.Itoa(p) + "/tcp"
	}
	return []testcontainers.ContainerCustomizer{
		testcontainers.WithLabels(d.labels(role)),
		testcontainers.WithName("collide-" + d.runID + "-" + role),
		testcontainers.WithLogger(d.logger),
		network.WithNetwork([]string{alias}, d.nw),
		testcontainers.WithExposedPorts(exposed...),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = mobynet.PortMap{}
			for _, p := range ports {
				port, _ := mobynet.ParsePort(strconv.Itoa(p) + "/tcp")
				hc.PortBindings[port] = []mobynet.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "0"}}
			}
		}),
	}
}

// track records a container (even one that failed to start) for Close.
func (d *Docker) track(role string, c testcontainers.Container) {
	if c == nil || isNilContainer(c) {
		return
	}
	d.mu.Lock()
	d.ctrs = append(d.ctrs, started{role, c})
	d.mu.Unlock()
}

// isNilContainer catches a typed nil (e.g. a nil *PostgresContainer) in the
// interface.
func isNilContainer(c testcontainers.Container) bool {
	switch v := c.(type) {
	case *tcpostgres.PostgresContainer:
		return v == nil || v.Container == nil
	case *tctoxiproxy.Container:
		return v == nil || v.Container == nil
	case *testcontainers.DockerContainer:
		return v == nil
	}
	return false
}

// hostAddr is 127.0.0.1 and the host port Docker published for port.
func hostAddr(ctx context.Context, c testcontainers.Container, port int) (string, error) {
	p, err := c.MappedPort(ctx, strconv.Itoa(port)+"/tcp")
	if err != nil {
		return "", fmt.Errorf("published port of %d: %w", port, err)
	}
	return "127.0.0.1:" + strconv.Itoa(int(p.Num())), nil
}

// PostgresConfig is the database container.
type PostgresConfig struct {
	// Image is a PostgreSQL image compatible with the official one.
	Image string
	// User, Password and Database are created on first start.
	User, Password, Database string
	// StartTimeout bounds the wait until PostgreSQL accepts connections
	// (default 60s).
	StartTimeout time.Duration
}

// Postgres is a running database container.
type Postgres struct {
	// HostDSN reaches the database from the host: 127.0.0.1 and the
	// published port.
	HostDSN string
	// NetDSN reaches it from the run's network: host "database", port 5432.
	NetDSN string
	// NetAddr is "database:5432".
	NetAddr string
}

// StartPostgres starts the database with testcontainers' postgres module
// and waits until it accepts connections.
func (d *Docker) StartPostgres(ctx context.Context, cfg PostgresConfig) (*Postgres, error) {
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 60 * time.Second
	}
	opts := append(d.common("postgres", DatabaseAlias, 5432),
		tcpostgres.WithUsername(cfg.User),
		tcpostgres.WithPassword(cfg.Password),
		tcpostgres.WithDatabase(cfg.Database),
		// The run's data is thrown away: keep it in memory. On an overlay
		// file system this makes the first start (initdb) several times
		// faster. PGDATA is a folder inside the mount, which the entry point
		// (as root in the official image) creates with the right owner.
		testcontainers.WithTmpfs(map[string]string{"/var/lib/postgresql/data": "rw,mode=1777"}),
		testcontainers.WithEnv(map[string]string{"PGDATA": "/var/lib/postgresql/data/pgdata"}),
		// The module's own BasicWaitStrategies also dial the port at the
		// address testcontainers guesses for the engine, which inside a
		// container is not where 127.0.0.1-bound ports are: the log is enough
		// (the second "ready" line is the real server, after init).
		testcontainers.WithWaitStrategy(wait.ForLog("database system is ready to accept connections").
			WithOccurrence(2).WithStartupTimeout(cfg.StartTimeout)),
	)
	c, err := tcpostgres.Run(ctx, cfg.Image, opts...)
	d.track("postgres", c)
	if err != nil {
		return nil, d.startErr("postgres", cfg.Image, err)
	}
	addr, err := hostAddr(ctx, c, 5432)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	dsn := func(hostport string) string {
		u := url.URL{Scheme: "postgres", User: url.UserPassword(cfg.User, cfg.Password), Host: hostport,
			Path: "/" + cfg.Database, RawQuery: "sslmode=disable"}
		return u.String()
	}
	netAddr := DatabaseAlias + ":5432"
	return &Postgres{HostDSN: dsn(addr), NetDSN: dsn(netAddr), NetAddr: netAddr}, nil
}

// Toxiproxy is a running Toxiproxy container.
type Toxiproxy struct {
	// APIURL is its API on the host, e.g. http://127.0.0.1:32771.
	APIURL string
	c      testcontainers.Container
}

// HostAddr is where the host reaches port of the Toxiproxy container.
func (t *Toxiproxy) HostAddr(ctx context.Context, port int) (string, error) {
	return hostAddr(ctx, t.c, port)
}

// StartToxiproxy starts Toxiproxy with testcontainers' toxiproxy module, its
// API and the link ports (ToxiproxyTargetPort, ToxiproxyDatabasePort)
// published on 127.0.0.1, and waits until its API answers.
func (d *Docker) StartToxiproxy(ctx context.Context, image string) (*Toxiproxy, error) {
	opts := append(d.common("toxiproxy", ToxiproxyAlias, ToxiproxyAPIPort, ToxiproxyTargetPort, ToxiproxyDatabasePort),
		testcontainers.WithWaitStrategy(&httpReady{port: ToxiproxyAPIPort, path: "/version", timeout: 60 * time.Second}))
	c, err := tctoxiproxy.Run(ctx, image, opts...)
	d.track("toxiproxy", c)
	if err != nil {
		return nil, d.startErr("toxiproxy", image, err)
	}
	api, err := hostAddr(ctx, c, ToxiproxyAPIPort)
	if err != nil {
		return nil, fmt.Errorf("toxiproxy: %w", err)
	}
	return &Toxiproxy{APIURL: "http://" + api, c: c}, nil
}

// ServiceConfig is the service under test in a container. Placeholders must
// already be expanded.
type ServiceConfig struct {
	// Image is the service's image; or BuildContext (and Dockerfile) build one.
	Image        string
	BuildContext string
	Dockerfile   string
	BuildArgs    map[string]string
	// Cmd replaces the image's command; Env is its environment.
	Cmd []string
	Env map[string]string
	// Port is the container port the service listens on.
	Port int
	// Health is the path polled until 2xx; empty: until any HTTP answer.
	Health        string
	HealthTimeout time.Duration
}

// Service is a running service container.
type Service struct {
	// NetAddr is where the run's network reaches it: "service:<port>".
	NetAddr string
	// HostURL is where the host reaches it directly (bypassing Toxiproxy).
	HostURL string
}

// StartService starts (building first, if asked) the service container and
// waits until it is healthy. If it exits or stays unhealthy, the error
// names service.log in the run folder and quotes its last lines.
func (d *Docker) StartService(ctx context.Context, cfg ServiceConfig) (*Service, error) {
	opts := append(d.common("service", ServiceAlias, cfg.Port),
		testcontainers.WithWaitStrategy(&httpReady{port: cfg.Port, path: cfg.Health, anyAnswer: cfg.Health == "", timeout: cfg.HealthTimeout}))
	if len(cfg.Env) > 0 {
		opts = append(opts, testcontainers.WithEnv(cfg.Env))
	}
	if len(cfg.Cmd) > 0 {
		opts = append(opts, testcontainers.WithCmd(cfg.Cmd...))
	}
	image := cfg.Image
	what := cfg.Image
	if cfg.BuildContext != "" {
		image = ""
		what = filepath.Join(cfg.BuildContext, cfg.Dockerfile)
		df := testcontainers.FromDockerfile{Context: cfg.BuildContext, Dockerfile: cfg.Dockerfile, Repo: "collide-service", Tag: strings.ToLower(d.runID)}
		if len(cfg.BuildArgs) > 0 {
			df.BuildArgs = map[string]*string{}
			for k, v := range cfg.BuildArgs {
				df.BuildArgs[k] = &v
			}
		}
		if d.logDir != "" {
			if f, err := os.Create(filepath.Join(d.logDir, "build.log")); err == nil {
				defer f.Close()
				df.BuildLogWriter = f
			}
		}
		opts = append(opts, testcontainers.WithDockerfile(df))
	}
	c, err := testcontainers.Run(ctx, image, opts...)
	d.track("service", c)
	if err != nil {
		return nil, d.startErr("service", what, err)
	}
	addr, err := hostAddr(ctx, c, cfg.Port)
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	return &Service{NetAddr: ServiceAlias + ":" + strconv.Itoa(cfg.Port), HostURL: "http://" + addr}, nil
}

// startErr explains a container that did not start: the image, the cause,
// and the end of its log when it got that far.
func (d *Docker) startErr(role, image string, err error) error {
	msg := fmt.Sprintf("%s container (%s) did not start: %v", role, image, err)
	if e := strings.ToLower(err.Error()); strings.Contains(e, "pull") || strings.Contains(e, "no such image") ||
		strings.Contains(e, "registry") || strings.Contains(e, "manifest") {
		msg += " (the image is not on this machine and could not be pulled: pull or build it, or set another image; see docs/stacks.md#images)"
	}
	d.mu.Lock()
	var c testcontainers.Container
	for _, s := range d.ctrs {
		if s.role == role {
			c = s.c
		}
	}
	d.mu.Unlock()
	if c != nil && d.logDir != "" {
		path := filepath.Join(d.logDir, role+".log")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if saveLogs(ctx, c, path) == nil {
			msg = withLog(msg, path)
		}
	}
	return &startError{msg: msg, err: err}
}

// startError is a container start failure: the message quotes the log; the
// cause stays reachable with errors.Is and errors.As.
type startError struct {
	msg string
	err error
}

func (e *startError) Error() string { return e.msg }
func (e *startError) Unwrap() error { return e.err }

// saveLogs writes the container's stdout and stderr to path.
func saveLogs(ctx context.Context, c testcontainers.Container, path string) error {
	rc, err := c.Logs(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, cerr := io.Copy(f, rc)
	if err := f.Close(); err != nil && cerr == nil {
		cerr = err
	}
	return cerr
}

// Close saves every container's log as <role>.log in the run folder, then
// removes the containers, newest first (and an image it built), and the
// network. It uses its own time bound, not the run's context, so it works
// after a cancellation; it is safe to call more than once.
func (d *Docker) Close() error {
	d.closeMu.Lock()
	defer d.closeMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	d.mu.Lock()
	ctrs := d.ctrs
	d.ctrs = nil
	d.mu.Unlock()
	var errs []error
	for i := len(ctrs) - 1; i >= 0; i-- {
		s := ctrs[i]
		if d.logDir != "" {
			_ = saveLogs(ctx, s.c, filepath.Join(d.logDir, s.role+".log"))
		}
		if err := testcontainers.TerminateContainer(s.c, testcontainers.StopContext(ctx), testcontainers.StopTimeout(5*time.Second)); err != nil {
			errs = append(errs, fmt.Errorf("remove %s container: %w", s.role, err))
		}
	}
	if d.nw != nil && !d.closed {
		if err := d.nw.Remove(ctx); err != nil {
			errs = append(errs, fmt.Errorf("remove network %s: %w", d.nw.Name, err))
		} else {
			d.closed = true
		}
	}
	d.closeLogger()
	return errors.Join(errs...)
}

func (d *Docker) closeLogger() {
	unrouteGlobalLog(d.logger)
	if fl, ok := d.logger.(*fileLogger); ok {
		fl.close()
	}
}

// testcontainers also logs through a process-wide logger (e.g. its
// "Connected to docker" banner), which by default writes to stderr, in the
// middle of collide's output. The first NewDocker replaces it with one that
// writes to the docker.log of the newest open stack, or nowhere.
var global struct {
	once sync.Once
	mu   sync.Mutex
	to   tclog.Logger
}

type globalLogger struct{}

func (globalLogger) Printf(format string, v ...any) {
	global.mu.Lock()
	defer global.mu.Unlock()
	if global.to != nil {
		global.to.Printf(format, v...)
	}
}

func routeGlobalLog(l tclog.Logger) {
	global.once.Do(func() { tclog.SetDefault(globalLogger{}) })
	global.mu.Lock()
	global.to = l
	global.mu.Unlock()
}

func unrouteGlobalLog(l tclog.Logger) {
	global.mu.Lock()
	if global.to == l {
		global.to = nil
	}
	global.mu.Unlock()
}

// httpReady is a testcontainers wait strategy: GET 127.0.0.1:<published
// port><path> until 2xx (or, with anyAnswer, any HTTP answer), failing at
// once if the container stops. testcontainers' own HTTP strategy dials the
// address it guesses for the engine, which is wrong for ports bound to
// 127.0.0.1 when collide itself runs in a container.
type httpReady struct {
	port      int
	path      string
	anyAnswer bool
	timeout   time.Duration
}

func (h *httpReady) Timeout() *time.Duration { return &h.timeout }

func (h *httpReady) String() string {
	return fmt.Sprintf("HTTP GET %s on port %d", h.path, h.port)
}

func (h *httpReady) WaitUntilReady(ctx context.Context, t wait.StrategyTarget) error {
	var addr string
	for addr == "" {
		p, err := t.MappedPort(ctx, strconv.Itoa(h.port)+"/tcp")
		if err == nil && p.Num() != 0 {
			addr = "127.0.0.1:" + strconv.Itoa(int(p.Num()))
			break
		}
		if st, serr := t.State(ctx); serr == nil && !st.Running {
			return fmt.Errorf("container exited (status %d) before it was healthy", st.ExitCode)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(healthPoll):
		}
	}
	exited := make(chan struct{})
	var exitCode int
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			select {
			case <-wctx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
			if st, err := t.State(wctx); err == nil && !st.Running {
				exitCode = st.ExitCode
				close(exited)
				return
			}
		}
	}()
	path := h.path
	if h.anyAnswer {
		path = ""
	}
	err := waitHealthy(ctx, "http://"+addr, path, h.timeout, exited)
	if errors.Is(err, errExited) {
		cancel()
		return fmt.Errorf("container exited (status %d) before it was healthy", exitCode)
	}
	return err
}

// fileLogger sends testcontainers' messages to docker.log.
type fileLogger struct {
	mu sync.Mutex
	f  *os.File
}

func (l *fileLogger) Printf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		fmt.Fprintf(l.f, "%s %s\n", time.Now().Format("15:04:05.000"), strings.TrimRight(fmt.Sprintf(format, v...), "\n"))
	}
}

func (l *fileLogger) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
