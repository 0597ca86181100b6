// hono-openapi converts the schemas of every library it supports through dynamic imports, and the bundler follows
// them all: zod (installed here for the test pool) would add about 700 KiB to the Worker. This Worker's schemas are
// valibot's, so wrangler.toml's [alias] points zod here; converting a zod schema would fail loudly.
throw new Error("zod is not bundled into this Worker: its schemas are valibot's");
