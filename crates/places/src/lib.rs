//! Places: municipalities, 圏域 regions, gazetteer; resolution of names and codes.
