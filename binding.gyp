{
  "targets": [
    {
      "target_name": "nabla_native",
      "sources": ["native/nabla_native.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-Wall", "-Wno-psabi"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++1y", "-std=gnu++17"],
      "libraries": ["-lpthread"],
      "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"] }
    }
  ]
}
