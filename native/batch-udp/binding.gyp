{
  "targets": [
    {
      "target_name": "batch_udp",
      "sources": ["batch-udp.c"],
      "cflags": ["-O2", "-std=gnu11", "-Wall"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
