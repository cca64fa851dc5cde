# The Debian package: `cpack -G DEB` (or `cpack --config CPackConfig.cmake -G DEB`) in a
# configured build directory gives autoint_<version>_<arch>.deb with the library, its headers
# and CMake package files, the apps and the example configs, installed under /usr. Its Depends
# name the Debian runtime packages the binaries load (tests/package/test_package.sh checks
# them against what ldd resolves); linking against libautoint from C++ also needs the -dev
# packages named in Recommends.
set(CPACK_PACKAGE_NAME autoint)
set(CPACK_PACKAGE_VENDOR "The autoint authors")
set(CPACK_PACKAGE_CONTACT "The autoint authors <autoint@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION "AutoInt and AutoInt+ (self-attentive feature interaction, \
Song et al., CIKM 2019) for CTR and rating prediction: libautoint and the autoint-* apps \
(train, eval, data, bench, recommend, serve) with example YAML configs.")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

# Debian's LibTorch is libtorch<major>.<minor>; a LibTorch from elsewhere (official or pip,
# CUDA) is not a Debian package, so it is left out of Depends and the user provides it.
set(autoint_deb_depends libc6 libstdc++6 libgcc-s1 libopenblas0-pthread libfmt9 libyaml-cpp0.7)
set(autoint_deb_recommends libfmt-dev libyaml-cpp-dev)
if(Torch_DIR MATCHES "^/usr/" AND Torch_VERSION MATCHES "^([0-9]+)\\.([0-9]+)")
  list(PREPEND autoint_deb_depends "libtorch${CMAKE_MATCH_1}.${CMAKE_MATCH_2}")
  list(PREPEND autoint_deb_recommends libtorch-dev)
else()
  message(STATUS "autoint: LibTorch at ${Torch_DIR} is not Debian's; the .deb will not "
    "depend on a libtorch package")
endif()
if(AUTOINT_GLOO_LIBRARY MATCHES "^/usr/lib")  # distributed training's Gloo (Debian's libgloo)
  list(APPEND autoint_deb_depends libgloo0)
  list(APPEND autoint_deb_recommends libgloo-dev)
endif()
# glog, linked where LibTorch logs through it (to quiet c10d's connection retries).
get_target_property(autoint_links autoint LINK_LIBRARIES)
if(AUTOINT_GLOG_LIBRARY MATCHES "^/usr/lib" AND AUTOINT_GLOG_LIBRARY IN_LIST autoint_links)
  list(APPEND autoint_deb_depends libgoogle-glog0v6)
endif()
list(JOIN autoint_deb_depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
list(JOIN autoint_deb_recommends ", " CPACK_DEBIAN_PACKAGE_RECOMMENDS)
include(CPack)
