#define _GNU_SOURCE
#include "gradus_host_signals.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t interrupt_signal = 0;
static const char *volatile plugin_call = NULL;
static char crash_note[1024];
static volatile sig_atomic_t crash_note_ready = 0;

static void on_interrupt(int sig) {
    if (interrupt_signal == 0) interrupt_signal = sig;
    signal(sig, SIG_DFL);
}

void gradus_host_install_interrupt_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int gradus_host_interrupt_signal(void) { return interrupt_signal; }
void gradus_host_clear_interrupt(void) { interrupt_signal = 0; }

void gradus_host_set_plugin_call(const char *text) { plugin_call = text; }
const char *gradus_host_plugin_call(void) { return plugin_call; }

void gradus_host_set_crash_note(const char *text) {
    crash_note_ready = 0;
    size_t n = text ? strlen(text) : 0;
    if (n >= sizeof crash_note) n = sizeof crash_note - 1;
    if (n) memcpy(crash_note, text, n);
    crash_note[n] = 0;
    crash_note_ready = n > 0;
}

static void put(const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

static const char *signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV (invalid memory access)";
    case SIGBUS: return "SIGBUS (bus error)";
    case SIGILL: return "SIGILL (illegal instruction or a Swift runtime trap)";
    case SIGFPE: return "SIGFPE (arithmetic fault)";
    case SIGABRT: return "SIGABRT (abort)";
    case SIGTRAP: return "SIGTRAP (trap)";
    default: return "a fatal signal";
    }
}

static void on_crash(int sig) {
    const char *call = plugin_call;
    put("gradus: fatal: ");
    put(signal_name(sig));
    if (call) { put(" in "); put(call); put(": the plugin crashed the process"); }
    else put(" in the host (no plugin call in progress)");
    if (crash_note_ready) { put("; "); put(crash_note); }
    put("\n");
    signal(sig, SIG_DFL);
    raise(sig);
}

void gradus_host_install_crash_reporter(void) {
    static char *alt_stack = NULL;
    if (!alt_stack) {
        size_t size = 64 * 1024;
        alt_stack = malloc(size);
        if (alt_stack) {
            stack_t ss;
            memset(&ss, 0, sizeof ss);
            ss.ss_sp = alt_stack;
            ss.ss_size = size;
            sigaltstack(&ss, NULL);
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_crash;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
    int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

#include <sys/prctl.h>

int gradus_host_terminate_with_parent(void) {
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) return 0;  /* not fatal: the run just may outlive it */
    /* The parent may have ended before the request: then it is init (or a subreaper) now. */
    return getppid() == parent ? 0 : -1;
}
