// The end-to-end tests share the kernel and the machine's two cores: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
