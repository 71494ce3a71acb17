{
  "targets": [
    {
      "target_name": "statbatch",
      "sources": ["native/statbatch.c"],
      "cflags": ["-O2", "-ffp-contract=off", "-std=gnu11"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O2", "-ffp-contract=off"] },
      "conditions": [["OS=='win'", { "type": "none" }]]
    }
  ]
}
