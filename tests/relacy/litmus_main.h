/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * litmus_main.h - the command line and TAP output every litmus binary of
 * tests/relacy/ shares.  A litmus file includes it after its cases, with
 * LITMUS_SOURCE naming the core file it checks, lists its cases in a
 * struct litmus table and calls litmus_main() from main().
 */
#ifndef LITMUS_MAIN_H
#define LITMUS_MAIN_H

struct litmus {
	const char *name;
	bool (*run)(rl::test_params &p);
	rl::scheduler_type_e sched;
	unsigned int bound;		/* context bound (sched_bound) */
	rl::iteration_t iterations;	/* sched_random only */
};

template <typename T> static bool run_case(rl::test_params &p)
{
	return rl::simulate<T>(p);
}

static const char *sched_name(const struct litmus *c)
{
	switch (c->sched) {
	case rl::sched_full:
		return "full search";
	case rl::sched_bound:
		return "context bound";
	default:
		return "random sample";
	}
}

/* -s: "full", "bound:N" (context bound N) or "random:N" (N executions). */
static bool parse_sched(const char *arg, struct litmus *c)
{
	std::string s = arg;
	unsigned long n = 0;
	size_t colon = s.find(':');

	if (colon != std::string::npos)
		n = std::stoul(s.substr(colon + 1));
	s = s.substr(0, colon);
	c->bound = 0;
	c->iterations = 0;
	if (s == "full") {
		c->sched = rl::sched_full;
	} else if (s == "bound" && n) {
		c->sched = rl::sched_bound;
		c->bound = (unsigned int)n;
	} else if (s == "random" && n) {
		c->sched = rl::sched_random;
		c->iterations = n;
	} else {
		return false;
	}
	return true;
}

/*
 * The whole program: parse the command line, run the chosen @cases (of
 * @ncases) and print TAP.  Return: the exit status.
 */
static int litmus_main(const struct litmus *cases, unsigned int ncases,
		       int argc, char **argv)
{
	std::ofstream logfile;
	std::ostream *log = &std::cerr;
	struct litmus override = { "", NULL, rl::sched_full, 0, 0 };
	bool want[16], use_override = false;
	unsigned int i, n = 0, failed = 0;
	int a;

	for (a = 1; a < argc && argv[a][0] == '-'; a++) {
		std::string opt = argv[a];

		if (opt == "-l" && a + 1 < argc) {
			logfile.open(argv[++a], std::ios::app);
			log = &logfile;
		} else if (opt == "-s" && a + 1 < argc &&
			   parse_sched(argv[++a], &override)) {
			use_override = true;
		} else {
			std::fprintf(stderr,
				     "usage: %s [-l LOG] [-s full|bound:N|random:N] [CASE...]\n",
				     argv[0]);
			return 2;
		}
	}
	for (i = 0; i < ncases && i < 16; i++) {
		want[i] = a == argc;
		for (int k = a; k < argc; k++)
			if (std::string(argv[k]) == cases[i].name)
				want[i] = true;
		n += want[i];
	}
	std::printf("TAP version 13\n1..%u\n", n);
	n = 0;
	for (i = 0; i < ncases && i < 16; i++) {
		struct litmus c_ = cases[i];
		const struct litmus *c = &c_;
		rl::test_params p;
		bool ok;

		if (!want[i])
			continue;
		if (use_override) {
			c_.sched = override.sched;
			c_.bound = override.bound;
			c_.iterations = override.iterations;
		}
		p.search_type = c->sched;
		p.context_bound = c->bound;
		if (c->iterations)
			p.iteration_count = c->iterations;
		/*
		 * Straight to a file: Relacy's operator delete must not
		 * free a string stream's buffer allocated outside it.
		 */
		p.output_stream = log;
		p.progress_stream = log;
		p.execution_depth_limit = 2000;
		*log << "== " << c->name << " (" << LITMUS_SOURCE << ")"
		     << std::endl;
		auto t0 = std::chrono::steady_clock::now();
		ok = c->run(p);
		double s = std::chrono::duration<double>(
			std::chrono::steady_clock::now() - t0).count();
		*log << std::endl;
		std::printf("%s %u - %s: %s%s, %llu executions, %.1f s%s%s\n",
			    ok ? "ok" : "not ok", ++n, c->name, sched_name(c),
			    c->sched == rl::sched_bound ?
			    (" " + std::to_string(c->bound)).c_str() : "",
			    (unsigned long long)p.stop_iteration, s,
			    ok ? "" : ": ",
			    ok ? "" : rl::test_result_str(p.test_result));
		std::fflush(stdout);
		failed += !ok;
	}
	return failed ? 1 : 0;
}

#endif /* LITMUS_MAIN_H */
