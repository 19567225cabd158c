// A decoder sink for the units: one of kt_sink_text/json/flat, freed with
// the object, read back as text or as its (path, value) fields.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include "decode/sink.h"
}

struct Sink {
	struct kt_sink s;
	explicit Sink(void (*init)(struct kt_sink *)) { init(&s); }
	~Sink() { kt_sink_free(&s); }
	Sink(const Sink &) = delete;
	Sink &operator=(const Sink &) = delete;
	std::string str() { return kt_sink_str(&s); }
	std::vector<std::pair<std::string, std::string>> fields()
	{
		std::vector<struct kt_field> f(kt_sink_nfields(&s));
		kt_sink_fields(&s, f.data(), f.size());
		std::vector<std::pair<std::string, std::string>> v;
		for (auto &x : f)
			v.emplace_back(x.path, x.value);
		return v;
	}
	std::map<std::string, std::string> flat()
	{
		std::map<std::string, std::string> m;
		for (auto &kv : fields())
			m[kv.first] = kv.second;
		return m;
	}
};
