/*
 * One function for the server (src/malloc-trim.ts, decision 046): glibc's malloc_trim(0), which gives the free pages
 * inside malloc's arenas back to the OS. glibc's free() only ever returns the top of an arena; the memory V8 frees
 * after start-up's compile work (its zones, tens of MB) sits between live blocks and stays resident without this.
 * Node-API is declared here rather than included, so building it needs a C compiler and glibc's headers only.
 */
#include <malloc.h>
#include <stddef.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status;
typedef napi_value (*napi_callback)(napi_env, napi_callback_info);
extern napi_status napi_create_function(napi_env, const char *, size_t, napi_callback, void *, napi_value *);
extern napi_status napi_set_named_property(napi_env, napi_value, const char *, napi_value);
extern napi_status napi_get_boolean(napi_env, int, napi_value *);

/* trim(): true when some memory was returned to the OS. */
static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_get_boolean(env, malloc_trim(0), &out);
  return out;
}

napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "trim", (size_t)-1, trim, NULL, &fn) == 0)
    napi_set_named_property(env, exports, "trim", fn);
  return exports;
}
