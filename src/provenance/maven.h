/* maven.h: the pom.properties a Maven build puts into a jar. */
#ifndef RMG_MAVEN_H
#define RMG_MAVEN_H

#include <stddef.h>

#include "rummage.h"
#include "provenance/text.h"

struct rmg_pkgdb;

/* path is the nested path "X.jar!/META-INF/maven/GROUP/ARTIFACT/pom.properties" (X.jar may
 * itself be inside archives). The artifact, named "groupId:artifactId" (the properties
 * groupId, artifactId and version; GROUP and ARTIFACT of the path when a key is missing),
 * claims every path under "X.jar!/" by attribution; of several pom.properties in one jar (a
 * shaded jar) the first read keeps the claim. Problems go to w. RMG_OK or RMG_ENOMEM. */
enum rmg_status rmg_maven_parse_pom_properties(struct rmg_pkgdb *db, const char *path,
                                               size_t plen, const char *data, size_t len,
                                               struct rmg_pkgwarn *w);

#endif
