// stop_token_bench.cpp: the libstdc++ <stop_token> side of stoptoken-bench.
//
// Measures the same operations as the Rust harness (bench/src), in the same
// way: calibrate a batch to ~8 ms, run 15 batches, print the median ns/op.
// Output: one "key value" line per measurement (value in ns; see README.md).
//
// The single-thread operations run twice: first with the prefix "st." while
// the process has never started a thread, then, after one std::thread was
// started and joined, with the prefix "mt.". libstdc++ (through
// __gthread_active_p and glibc's single-thread fast paths) may pick cheaper
// code paths in a process that never started a thread.
//
//   stop_token_bench                 all measurements
//   stop_token_bench --callgrind OP N  run OP N times (for valgrind's callgrind)
//
// Build: g++ -O2 -std=c++20 -pthread stop_token_bench.cpp -o stop_token_bench

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Bench = double (*)(std::uint64_t);  // n ops -> ns spent on the measured part

constexpr std::size_t kCallbacks = 1000;

// Like std::hint::black_box in Rust: the compiler must assume that `value`
// (which is forced into memory) is read and written here.
template <class T>
inline void keep(T const& value) {
    asm volatile("" : : "r"(&value) : "memory");
}

double ns_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::nano>(to - from).count();
}

template <class F>
double timed(std::uint64_t n, F&& body) {
    auto start = Clock::now();
    for (std::uint64_t i = 0; i < n; ++i) body();
    return ns_between(start, Clock::now());
}

struct Noop {
    void operator()() const noexcept {}
};

double poll(std::uint64_t n) {
    std::stop_source source;
    std::stop_token token = source.get_token();
    return timed(n, [&] {
        auto* t = &token;
        keep(t);
        bool stopped = t->stop_requested();
        keep(stopped);
    });
}

double token_clone_drop(std::uint64_t n) {
    std::stop_source source;
    std::stop_token token = source.get_token();
    return timed(n, [&] {
        auto* t = &token;
        keep(t);
        std::stop_token copy = *t;
        keep(copy);
    });
}

double source_new_drop(std::uint64_t n) {
    return timed(n, [] {
        std::stop_source source;
        keep(source);
    });
}

double cb_register_drop(std::uint64_t n) {
    std::stop_source source;
    std::stop_token token = source.get_token();
    return timed(n, [&] {
        auto* t = &token;
        keep(t);
        std::stop_callback<Noop> callback(*t, Noop{});
        keep(callback);
    });
}

double source_new_request_stop_drop(std::uint64_t n) {
    return timed(n, [] {
        std::stop_source source;
        keep(source);
        bool first = source.request_stop();
        keep(first);
    });
}

double request_stop_1000(std::uint64_t n) {
    double total = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::stop_source source;
        std::stop_token token = source.get_token();
        std::vector<std::unique_ptr<std::stop_callback<Noop>>> callbacks;
        callbacks.reserve(kCallbacks);
        for (std::size_t j = 0; j < kCallbacks; ++j)
            callbacks.push_back(std::make_unique<std::stop_callback<Noop>>(token, Noop{}));
        auto start = Clock::now();
        bool first = source.request_stop();
        total += ns_between(start, Clock::now());
        keep(first);
    }
    return total;
}

// C++ has no linked child: a new stop_source plus a stop_callback on the
// parent that forwards the stop to it (what a C++ user writes instead).
double child_token(std::uint64_t n) {
    std::stop_source source;
    std::stop_token token = source.get_token();
    return timed(n, [&] {
        auto* t = &token;
        keep(t);
        std::stop_source child;
        std::stop_callback link(*t, [&child] { child.request_stop(); });
        keep(child);
        keep(link);
    });
}

// C++ has no any-of: a new stop_source plus one stop_callback per input that
// forwards the stop to it (what a C++ user writes instead).
struct Forward {
    std::stop_source* target;
    void operator()() const { target->request_stop(); }
};

template <std::size_t N>
double any_of(std::uint64_t n) {
    std::vector<std::stop_source> sources(N);
    std::vector<std::stop_token> tokens;
    for (auto& source : sources) tokens.push_back(source.get_token());
    return timed(n, [&] {
        auto* ts = tokens.data();
        keep(ts);
        std::stop_source merged;
        std::optional<std::stop_callback<Forward>> links[N];
        for (std::size_t i = 0; i < N; ++i) links[i].emplace(ts[i], Forward{&merged});
        keep(merged);
        keep(links);
    });
}

// `threads` threads register and deregister on one token; ns per op as seen
// by each thread (wall time / ops per thread).
double contended_register_on(std::uint64_t n, int threads) {
    std::stop_source source;
    std::stop_token token = source.get_token();
    std::atomic<int> arrived{0};
    auto loop = [&] {
        arrived.fetch_add(1);
        while (arrived.load() < threads) std::this_thread::yield();
        for (std::uint64_t i = 0; i < n; ++i) {
            std::stop_callback<Noop> callback(token, Noop{});
            keep(callback);
        }
    };
    std::vector<std::thread> others;
    for (int t = 1; t < threads; ++t) others.emplace_back(loop);
    arrived.fetch_add(1);
    while (arrived.load() < threads) std::this_thread::yield();
    auto start = Clock::now();
    for (std::uint64_t i = 0; i < n; ++i) {
        std::stop_callback<Noop> callback(token, Noop{});
        keep(callback);
    }
    for (auto& other : others) other.join();
    return ns_between(start, Clock::now());
}

double contended_register(std::uint64_t n) { return contended_register_on(n, 2); }
double contended_register_4(std::uint64_t n) { return contended_register_on(n, 4); }

// request_stop with kCallbacks callbacks while another thread keeps polling
// stop_requested() on the same token; only the request is timed.
double request_stop_1000_polled(std::uint64_t n) {
    double total = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::stop_source source;
        std::stop_token token = source.get_token();
        std::vector<std::unique_ptr<std::stop_callback<Noop>>> callbacks;
        callbacks.reserve(kCallbacks);
        for (std::size_t j = 0; j < kCallbacks; ++j)
            callbacks.push_back(std::make_unique<std::stop_callback<Noop>>(token, Noop{}));
        std::atomic<bool> polling{false};
        std::thread poller([&] {
            polling.store(true);
            while (!token.stop_requested()) {
            }
        });
        while (!polling.load()) std::this_thread::yield();
        auto start = Clock::now();
        bool first = source.request_stop();
        total += ns_between(start, Clock::now());
        keep(first);
        poller.join();
    }
    return total;
}

double jthread_spawn_join(std::uint64_t n) {
    return timed(n, [] {
        std::jthread thread([](std::stop_token token) {
            bool stopped = token.stop_requested();
            keep(stopped);
        });
    });  // ~jthread: request_stop, then join
}

double thread_spawn_join(std::uint64_t n) {
    return timed(n, [] {
        std::thread thread([] {});
        thread.join();
    });
}

// From the request_stop call to the waiter running again, the waiter being
// blocked in condition_variable_any::wait(lock, stoken, pred).
double cancel_latency(std::uint64_t n) {
    double total = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::stop_source source;
        std::mutex mutex;
        std::condition_variable_any cv;
        std::atomic<bool> ready{false};
        Clock::time_point woke;
        std::thread waiter([&, token = source.get_token()] {
            std::unique_lock lock(mutex);
            ready.store(true);
            cv.wait(lock, token, [] { return false; });
            woke = Clock::now();
        });
        while (!ready.load()) std::this_thread::yield();
        std::this_thread::sleep_for(std::chrono::microseconds(200));  // let it block
        auto start = Clock::now();
        source.request_stop();
        waiter.join();
        total += ns_between(start, woke);
    }
    return total;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    std::size_t mid = values.size() / 2;
    return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

double median_ns_per_op(Bench bench) {
    std::uint64_t n = 1;
    for (;;) {  // calibration, doubling as the warm-up
        double elapsed = bench(n);
        if (elapsed >= 2e6 || n >= (std::uint64_t{1} << 40)) {
            n = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(8e6 / (elapsed / n)));
            break;
        }
        n *= 2;
    }
    std::vector<double> samples;
    for (int i = 0; i < 15; ++i) samples.push_back(bench(n) / n);
    return median(samples);
}

double median_ns_of_samples(Bench bench, int count) {
    bench(3);
    std::vector<double> samples;
    for (int i = 0; i < count; ++i) samples.push_back(bench(1));
    return median(samples);
}

struct Op {
    const char* name;
    Bench bench;
};

// The single-thread operations, measured in both process modes.
const Op kSingle[] = {
    {"poll", poll},
    {"token_clone_drop", token_clone_drop},
    {"source_new_drop", source_new_drop},
    {"cb_register_drop", cb_register_drop},
    {"request_stop_0", source_new_request_stop_drop},
    {"request_stop_1000", request_stop_1000},
    {"child_token", child_token},
    {"any_of_2", any_of<2>},
    {"any_of_16", any_of<16>},
};

void report(const std::string& key, double ns) {
    std::printf("%s %.3f\n", key.c_str(), ns);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::strcmp(argv[1], "--callgrind") == 0) {
        std::uint64_t n = std::strtoull(argv[3], nullptr, 10);
        for (const Op& op : kSingle) {
            if (std::strcmp(op.name, argv[2]) == 0) {
                keep(op.bench(n));
                return 0;
            }
        }
        std::fprintf(stderr, "unknown operation %s\n", argv[2]);
        return 2;
    }
    if (argc != 1) {
        std::fprintf(stderr, "usage: %s [--callgrind OP N]\n", argv[0]);
        return 2;
    }
    for (const Op& op : kSingle) report(std::string("st.") + op.name, median_ns_per_op(op.bench));
    std::thread([] {}).join();  // from here on the process is multi-threaded
    for (const Op& op : kSingle) report(std::string("mt.") + op.name, median_ns_per_op(op.bench));
    report("contended_register", median_ns_per_op(contended_register));
    report("contended_register_4", median_ns_per_op(contended_register_4));
    report("request_stop_1000_polled", median_ns_per_op(request_stop_1000_polled));
    report("jthread_spawn_join", median_ns_per_op(jthread_spawn_join));
    report("thread_spawn_join", median_ns_per_op(thread_spawn_join));
    report("cancel_latency", median_ns_of_samples(cancel_latency, 101));
    return 0;
}
