// Linked with one layer's library whole (every object of it) and the layers below it: if the
// program links, no object of that layer calls into a layer above (see tests/CMakeLists.txt).
int main() { return 0; }
