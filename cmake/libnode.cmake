# V8 10.2 from Debian 12's libnode108, unpacked into .deps/libnode by scripts/fetch_libnode.sh
# (docs/wasm.md says why it is not installed). Its headers go in as system headers: they are
# noisy under -Wextra. Node 18 is built without pointer compression, so neither
# V8_COMPRESS_POINTERS nor V8_31BIT_SMIS_ON_64BIT_ARCH may be defined.
set(LIBNODE_PREFIX ${PROJECT_SOURCE_DIR}/.deps/libnode/usr CACHE PATH "libnode108 + libnode-dev, unpacked")
find_library(LIBNODE_LIBRARY NAMES libnode.so.108 PATHS ${LIBNODE_PREFIX}/lib/x86_64-linux-gnu
             NO_DEFAULT_PATH)
if(NOT LIBNODE_LIBRARY OR NOT EXISTS ${LIBNODE_PREFIX}/include/node/v8.h)
  message(FATAL_ERROR "libnode108 not found under ${LIBNODE_PREFIX}: run scripts/bootstrap.sh")
endif()
add_library(libnode_v8 SHARED IMPORTED)
set_target_properties(libnode_v8 PROPERTIES
  IMPORTED_LOCATION ${LIBNODE_LIBRARY}
  INTERFACE_SYSTEM_INCLUDE_DIRECTORIES ${LIBNODE_PREFIX}/include/node
  INTERFACE_INCLUDE_DIRECTORIES ${LIBNODE_PREFIX}/include/node)
