// A shard worker that cannot start: it throws while loading, as a worker file the loader refuses
// (a packaged app's ES module inside app.asar, say) would. ParallelGradients must go on alone.
throw new Error('this test worker cannot start');
