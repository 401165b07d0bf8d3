# vortex_library(NAME DIR [DEPS ...]): one static library per source folder, sources globbed so a
# new file needs no CMake edit. The DEPS list is the folder's allowed dependency direction
# (STYLE.md §1): an include outside it fails to build.
function(vortex_library name dir)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${dir}/*.cc)
  if(sources)
    add_library(${name} STATIC ${sources})
    target_link_libraries(${name} PUBLIC ${ARGN})
  else()
    add_library(${name} INTERFACE)
    target_link_libraries(${name} INTERFACE ${ARGN})
  endif()
  target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
  if(sources)
    target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  endif()
endfunction()
