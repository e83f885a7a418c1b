#define BOOST_TEST_MODULE leasehold_cluster
#include <boost/test/unit_test.hpp>
