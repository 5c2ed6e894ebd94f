{
  "targets": [
    {
      "target_name": "tsbpf",
      "sources": ["native/tsbpf.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
