{
  "targets": [
    {
      "target_name": "nabla_native",
      "sources": [
        "native/binding/napi.cc",
        "native/kernels/batchnorm.cc",
        "native/kernels/conv.cc",
        "native/kernels/conv_dgrad.cc",
        "native/kernels/conv_direct.cc",
        "native/kernels/conv_wgrad.cc",
        "native/kernels/elementwise.cc",
        "native/kernels/gather.cc",
        "native/kernels/gemm.cc",
        "native/kernels/im2col.cc",
        "native/kernels/isa.cc",
        "native/kernels/optim.cc",
        "native/kernels/pooling.cc",
        "native/kernels/reduce.cc",
        "native/kernels/threads.cc",
        "native/kernels/winograd.cc",
        "native/kernels/winograd4.cc"
      ],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-fvisibility=hidden", "-Wall", "-Wno-psabi"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++1y", "-std=gnu++17"],
      "libraries": ["-lpthread"],
      "ldflags": ["-static-libstdc++", "-static-libgcc"],
      "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"] }
    }
  ]
}
